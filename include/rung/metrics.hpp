#pragma once
// The paper's similarity coefficient SC = 1 - int|X-Y| / int|Y| (trapezoid rule) and MSE/MAE of spectra.
#include "core/metrics.hpp"
