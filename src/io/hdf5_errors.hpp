#pragma once
// HDF5's automatic error printing, switched off for one call and put back afterwards. rung reports
// errors itself (fail_input naming the file); the process-wide handler belongs to the host program, so
// rung never changes it for longer than one of its own calls. Used by the HDF5 wrapper and around netCDF
// calls (the netCDF-4 library switches HDF5's printing off for good when it initialises).
#include <hdf5.h>

namespace rung::h5 {

class QuietErrors {
public:
  QuietErrors() {
    unsigned is_v2 = 1;
    H5Eauto_is_v2(H5E_DEFAULT, &is_v2);
    v2_ = is_v2 != 0;
    if (v2_) {
      saved_ = H5Eget_auto2(H5E_DEFAULT, &func2_, &data_) >= 0;
      if (saved_) H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    } else {
#ifndef H5_NO_DEPRECATED_SYMBOLS
      // A host that installed a handler with the 1.6-style H5Eset_auto1.
      saved_ = H5Eget_auto1(&func1_, &data_) >= 0;
      if (saved_) H5Eset_auto1(nullptr, nullptr);
#endif
    }
  }
  ~QuietErrors() {
    if (!saved_) return;
    if (v2_) {
      H5Eset_auto2(H5E_DEFAULT, func2_, data_);
    } else {
#ifndef H5_NO_DEPRECATED_SYMBOLS
      H5Eset_auto1(func1_, data_);
#endif
    }
  }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

private:
  bool v2_ = true, saved_ = false;
  H5E_auto2_t func2_ = nullptr;
#ifndef H5_NO_DEPRECATED_SYMBOLS
  H5E_auto1_t func1_ = nullptr;
#endif
  void* data_ = nullptr;
};

}  // namespace rung::h5
