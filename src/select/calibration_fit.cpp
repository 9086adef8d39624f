#include "select/calibration_fit.hpp"

#include "core/error.hpp"
#include "ml/trainer.hpp"
#include "select/policy.hpp"
#include "select/predictor.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <numeric>

namespace rung::select {

std::optional<ProbePoint> probe_from_provenance(const nlohmann::json& provenance, std::size_t probe_g,
                                                std::size_t second_g) {
  if (!provenance.contains("rpa_provenance")) return std::nullopt;
  const auto& rp = provenance.at("rpa_provenance");
  if (!rp.contains("convergence")) return std::nullopt;
  const auto& c = rp.at("convergence");
  if (!c.contains("rule") || !c.contains("history") || !c.contains("chosen_n_g")) return std::nullopt;
  std::vector<std::pair<std::size_t, double>> points;  // (n_g, SC) of every block tried
  for (const char* key : {"probes", "history"})
    if (c.contains(key))
      for (const auto& p : c.at(key)) points.emplace_back(p.at("n_g").get<std::size_t>(), p.at("sc_ipa_rpa").get<double>());
  if (points.empty()) return std::nullopt;
  std::sort(points.begin(), points.end());
  ProbePoint out;
  out.label_n_g = c.at("chosen_n_g").get<std::size_t>();
  // the first block of at least probe_g; a label converged below the probe block is its own probe
  const auto it = std::find_if(points.begin(), points.end(), [&](const auto& p) { return p.first >= probe_g; });
  const auto& chosen = it != points.end() ? *it : points.back();
  // a block far above the probe's (a ladder that started beyond it) does not stand for the probe
  if (2 * chosen.first > 3 * probe_g) return std::nullopt;
  out.n_g = chosen.first;
  out.sc = chosen.second;
  out.second_n_g = out.n_g;
  out.sc_second = out.sc;
  if (second_g > 0) {
    const auto s = std::find_if(points.begin(), points.end(), [&](const auto& p) { return p.first >= second_g; });
    if (s != points.end() && s->first < out.n_g) out.second_n_g = s->first, out.sc_second = s->second;
  }
  out.blocks = std::move(points);
  return out;
}

ProbeCorrection fit_probe_correction(const std::vector<double>& sc_probe, const std::vector<double>& sc_converged,
                                     std::size_t probe_g) {
  const std::size_t n = sc_probe.size();
  if (n != sc_converged.size()) fail("fit_probe_correction: size mismatch");
  if (n < 3) fail(fmt::format("too few converged labels to fit the probe correction ({}; at least 3)", n));
  // e = alpha + beta d with d = 1 - SC_probe, e = 1 - SC_converged (ordinary least squares)
  double sd = 0, se = 0, sdd = 0, sde = 0, see = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = 1 - sc_probe[i], e = 1 - sc_converged[i];
    sd += d, se += e, sdd += d * d, sde += d * e, see += e * e;
  }
  ProbeCorrection c;
  c.probe_g = probe_g;
  c.n_fit = n;
  const double det = n * sdd - sd * sd;
  if (det > 1e-12 * n * sdd) {
    c.beta = (n * sde - sd * se) / det;
    c.alpha = (se - c.beta * sd) / n;
  } else {
    c.alpha = -1;  // all probes equal: fall through to the constrained forms
  }
  // SC can never exceed 1: alpha >= 0 and beta >= 0. When the free optimum breaks either, the constrained one lies
  // on the boundary alpha = 0 or beta = 0 (the squared error is convex): the better of the two is kept.
  if (c.alpha < 0 || c.beta < 0) {
    const auto sse = [&](double a, double b) {
      return see - 2 * a * se - 2 * b * sde + double(n) * a * a + 2 * a * b * sd + b * b * sdd;
    };
    const double b0 = sdd > 0 ? std::max(0.0, sde / sdd) : 1.0;  // alpha = 0
    const double a0 = std::max(0.0, se / double(n));             // beta = 0
    if (!(sdd > 0)) c.alpha = a0, c.beta = 1;  // every probe at SC = 1: only alpha acts, the labels' mean 1 - SC
    else if (sse(a0, 0.0) < sse(0.0, b0)) c.alpha = a0, c.beta = 0;
    else c.alpha = 0, c.beta = b0;
  }
  return c;
}

ProbeCorrection fit_probe_correction(const std::vector<double>& sc_probe, const std::vector<double>& sc_second,
                                     const std::vector<double>& sc_converged, std::size_t probe_g,
                                     std::size_t second_g) {
  const std::size_t n = sc_probe.size();
  if (n != sc_second.size() || n != sc_converged.size()) fail("fit_probe_correction: size mismatch");
  if (n < 4)
    fail(
        fmt::format("too few converged labels to fit the probe correction with its movement term ({}; at least 4)", n));
  // e = alpha + beta d + gamma m with d = 1 - SC_probe, m = SC_second - SC_probe, e = 1 - SC_converged:
  // the normal equations A w = b, solved by Cramer's rule (3 x 3)
  double a[3][3] = {}, b[3] = {}, diag = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x[3] = {1.0, 1 - sc_probe[i], sc_second[i] - sc_probe[i]}, e = 1 - sc_converged[i];
    for (int r = 0; r < 3; ++r) {
      b[r] += x[r] * e;
      for (int c = 0; c < 3; ++c) a[r][c] += x[r] * x[c];
    }
  }
  for (int r = 0; r < 3; ++r) diag = std::max(diag, a[r][r]);
  const auto det3 = [](const double m[3][3]) {
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  };
  const double det = det3(a);
  double w[3] = {-1, -1, 0};
  if (std::abs(det) > 1e-12 * diag * diag * diag)
    for (int k = 0; k < 3; ++k) {
      double m[3][3];
      for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) m[r][c] = c == k ? b[r] : a[r][c];
      w[k] = det3(m) / det;
    }
  if (w[0] < 0 || w[1] < 0) return fit_probe_correction(sc_probe, sc_converged, probe_g);  // gamma = 0
  ProbeCorrection c;
  c.probe_g = probe_g;
  c.second_g = second_g;
  c.n_fit = n;
  c.alpha = w[0], c.beta = w[1], c.gamma = w[2];
  return c;
}

namespace {

struct Tally {
  std::size_t right = 0, uncertain = 0, wrong = 0, n = 0;
  nlohmann::json to_json() const {
    // operational accuracy: "uncertain" launches the RPA, so it is right exactly when the RPA was needed
    return {{"right", right}, {"uncertain", uncertain}, {"wrong", wrong}, {"n", n}};
  }
};

// One decision scored against the label: right / wrong when definite; an "uncertain" counts as launched.
void score(Tally& t, double sc, double lower, double upper, double label, double threshold, std::size_t& launched_right) {
  PolicyOptions o;  // rung select's defaults (max_spread 0.1: a wider interval is "uncertain" there too)
  o.threshold = threshold;
  Evidence e;
  e.sc = sc, e.lower = lower, e.upper = upper;
  const auto d = decide(e, o).decision;
  const bool needed = label < threshold;
  ++t.n;
  if (d == Decision::uncertain) ++t.uncertain;
  else if ((d == Decision::rpa_needed) == needed) ++t.right;
  else ++t.wrong;
  if (launches_rpa(d) == needed) ++launched_right;
}

double mean_abs(const std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  double s = 0;
  for (double x : v) s += std::abs(x);
  return s / double(v.size());
}

}  // namespace

CalibrationFit fit_calibration(const OptimateDataset& data, const CalibrationOptions& options, Predictor* model,
                               const std::vector<CvFold>& folds) {
  if (options.second_g >= options.probe_g)
    fail_usage(fmt::format("the movement term's sub-block ({} G) must lie below the probe block ({} G)",
                           options.second_g, options.probe_g));
  const auto split = ml::assign_split(data, options.split_dir);
  CalibrationFit fit;
  std::vector<std::size_t> model_material;  // data.materials index of each model row
  for (std::size_t i = 0; i < data.materials.size(); ++i) {
    const auto& m = data.materials[i];
    if (!m.sc_ipa_rpa) continue;
    fit.model_rows.push_back({m.id, m.structure.formula(), ml::to_string(split.subset[i]), *m.sc_ipa_rpa, {}, {}});
    model_material.push_back(i);
    nlohmann::json prov;
    try {
      prov = nlohmann::json::parse(m.provenance);
    } catch (const nlohmann::json::exception&) {
      continue;
    }
    std::optional<ProbePoint> p;
    try {
      p = probe_from_provenance(prov, options.probe_g, options.second_g);
    } catch (const nlohmann::json::exception& e) {  // a G-block history without n_g or sc_ipa_rpa, or of other types
      fail(fmt::format("material {}: its RPA convergence history cannot be read ({})", m.id, e.what()));
    }
    if (!p) {
      ++fit.skipped_unconverged_rule;
      continue;
    }
    CalibrationRow r;
    r.id = m.id;
    r.formula = m.structure.formula();
    r.subset = ml::to_string(split.subset[i]);
    r.label = *m.sc_ipa_rpa;
    r.sc_probe = p->sc;
    r.sc_second = p->sc_second;
    r.second_n_g = p->second_n_g;
    r.probe_n_g = p->n_g;
    r.label_n_g = p->label_n_g;
    r.blocks = p->blocks;
    fit.rows.push_back(r);
  }
  std::vector<double> xp, xs, yp;
  for (const auto& r : fit.rows)
    if (r.subset == "train") xp.push_back(r.sc_probe), xs.push_back(r.sc_second), yp.push_back(r.label);
  ProbeCorrection pc = options.second_g > 0 ? fit_probe_correction(xp, xs, yp, options.probe_g, options.second_g)
                                            : fit_probe_correction(xp, yp, options.probe_g);
  pc.coverage = options.coverage;

  // the structure-only model on every labelled validation and test material
  std::map<std::string, std::size_t> model_row_of;
  for (std::size_t r = 0; r < fit.model_rows.size(); ++r) model_row_of[fit.model_rows[r].id] = r;
  const auto predict_rows = [&](Predictor& p, const std::vector<std::size_t>& rows) {
    std::vector<Structure> s;
    for (std::size_t r : rows) s.push_back(data.materials[model_material[r]].structure);
    std::vector<double> out;
    if (s.empty()) return out;
    for (const auto& x : p.predict(s)) out.push_back(std::min(x.sc, 1.0));
    return out;
  };
  if (model) {
    std::vector<std::size_t> rows;
    for (std::size_t r = 0; r < fit.model_rows.size(); ++r)
      if (fit.model_rows[r].subset != "train") rows.push_back(r);
    const auto sc = predict_rows(*model, rows);
    for (std::size_t j = 0; j < rows.size(); ++j) fit.model_rows[rows[j]].model_sc = sc[j];
    for (auto& r : fit.rows)
      if (r.subset != "train") r.model_sc = fit.model_rows[model_row_of.at(r.id)].model_sc;
  }
  // cross-validation: each fold's model on the training materials it held out
  for (const auto& f : folds) {
    std::vector<std::size_t> rows;
    for (const auto& id : f.held_out) {
      const auto it = model_row_of.find(id);
      if (it == model_row_of.end()) continue;  // not labelled in this data set
      const auto& row = fit.model_rows[it->second];
      if (row.subset != "train")
        fail_input(f.name, fmt::format("holds out {} ({}), a {} material: folds may hold out training materials only",
                                       row.id, row.formula, row.subset));
      if (row.cv_sc)
        fail_input(f.name, fmt::format("holds out {} ({}), which another fold holds out too", row.id, row.formula));
      rows.push_back(it->second);
    }
    const auto sc = predict_rows(*f.model, rows);
    for (std::size_t j = 0; j < rows.size(); ++j) fit.model_rows[rows[j]].cv_sc = sc[j];
  }
  std::vector<double> res_probe, res_model, res_cv;
  for (const auto& r : fit.model_rows) {
    if (r.subset == "validation" && r.model_sc) res_model.push_back(*r.model_sc - r.label);
    if (r.cv_sc) res_cv.push_back(*r.cv_sc - r.label);
  }
  double train_mean = 0;
  for (auto& r : fit.rows) {
    r.probe_sc = pc.predict(r.sc_probe, r.sc_second);
    if (r.subset == "train") train_mean += r.label / double(xp.size());
    if (r.subset != "validation") continue;
    res_probe.push_back(r.probe_sc - r.label);
  }
  pc.n_calibration = res_probe.size();
  pc.half_width = conformal_half_width(res_probe, options.coverage);
  if (!std::isfinite(pc.half_width))
    fail(fmt::format("{} validation labels are too few for a {:.0f} % interval (at least {})", res_probe.size(),
                     100 * options.coverage, [&] {  // the fewest for which conformal_half_width has a rank
                       std::size_t m = 1;
                       while (std::ceil((double(m) + 1.0) * options.coverage - 1e-9) > double(m)) ++m;
                       return m;
                     }()));
  fit.calibration.probe = pc;
  if (model) {
    ModelInterval mi;
    mi.model_identity = model->info().identity();
    mi.coverage = options.coverage;
    mi.n_calibration = res_model.size();
    mi.n_cross_validation = res_cv.size();
    mi.folds = res_cv.empty() ? 0 : folds.size();
    std::vector<double> all = res_model;
    all.insert(all.end(), res_cv.begin(), res_cv.end());
    mi.half_width = conformal_half_width(all, options.coverage);
    if (std::isfinite(mi.half_width)) fit.calibration.model = mi;
  }

  // the report: each subset, each evidence, each threshold
  nlohmann::json subsets = nlohmann::json::object();
  for (const std::string name : {"validation", "test", "validation+test"}) {
    std::vector<double> dp, dm, dc, dmc;  // dmc: the constant on the model's materials (its like-for-like baseline)
    std::size_t in_p = 0, in_m = 0;
    std::vector<Tally> tp(options.thresholds.size()), tm(tp.size()), tc(tp.size()), tmc(tp.size());
    std::vector<std::size_t> lp(tp.size()), lm(tp.size()), lc(tp.size()), lmc(tp.size());
    for (const auto& r : fit.rows) {
      if (r.subset == "train" || (name != "validation+test" && r.subset != name)) continue;
      dp.push_back(r.probe_sc - r.label);
      dc.push_back(train_mean - r.label);
      const double hp = pc.half_width;
      in_p += std::abs(r.probe_sc - r.label) <= hp;
      for (std::size_t t = 0; t < tp.size(); ++t) {
        const double th = options.thresholds[t];
        score(tp[t], r.probe_sc, r.probe_sc - hp, std::min(1.0, r.probe_sc + hp), r.label, th, lp[t]);
        score(tc[t], train_mean, train_mean, train_mean, r.label, th, lc[t]);
      }
    }
    for (const auto& r : fit.model_rows) {  // the model on every labelled material, probe block or not
      if (!r.model_sc || r.subset == "train" || (name != "validation+test" && r.subset != name)) continue;
      dm.push_back(*r.model_sc - r.label);
      dmc.push_back(train_mean - r.label);
      for (std::size_t t = 0; t < tp.size(); ++t)
        score(tmc[t], train_mean, train_mean, train_mean, r.label, options.thresholds[t], lmc[t]);
      if (!fit.calibration.model) continue;
      const double hm = fit.calibration.model->half_width;
      in_m += std::abs(*r.model_sc - r.label) <= hm;
      for (std::size_t t = 0; t < tp.size(); ++t)
        score(tm[t], *r.model_sc, *r.model_sc - hm, std::min(1.0, *r.model_sc + hm), r.label, options.thresholds[t],
              lm[t]);
    }
    nlohmann::json s{{"n", dp.size()}};
    if (dp.empty()) {
      subsets[name] = s;
      continue;
    }
    const auto maxabs = [](const std::vector<double>& v) {
      double m = 0;
      for (double x : v) m = std::max(m, std::abs(x));
      return m;
    };
    s["probe"] = {{"mean_abs_dsc", mean_abs(dp)}, {"max_abs_dsc", maxabs(dp)}, {"coverage", double(in_p) / double(dp.size())}};
    // the validation materials calibrated the probe's interval (and are part of the model's): coverage there is
    // in-sample, fixed near ceil((n+1)c)/n by construction; test is the check
    if (name != "test") s["probe"]["coverage_includes_calibration_set"] = true;
    s["constant"] = {{"value", train_mean}, {"mean_abs_dsc", mean_abs(dc)}};  // on the probe's materials
    if (!dm.empty()) {
      s["model"] = {{"n", dm.size()},
                    {"mean_abs_dsc", mean_abs(dm)},
                    {"max_abs_dsc", maxabs(dm)},
                    {"constant_mean_abs_dsc", mean_abs(dmc)}};  // the constant on the same materials
      if (fit.calibration.model) s["model"]["coverage"] = double(in_m) / double(dm.size());
    }
    nlohmann::json dec = nlohmann::json::array();
    for (std::size_t t = 0; t < tp.size(); ++t) {
      nlohmann::json d{{"threshold", options.thresholds[t]},
                       {"probe", tp[t].to_json()},
                       {"constant", tc[t].to_json()}};
      d["probe"]["accuracy"] = double(lp[t]) / double(tp[t].n);
      d["constant"]["accuracy"] = double(lc[t]) / double(tc[t].n);
      if (tm[t].n) {
        d["model"] = tm[t].to_json();
        d["model"]["accuracy"] = double(lm[t]) / double(tm[t].n);
      }
      if (tmc[t].n) {  // the constant on the model's materials
        d["model_constant"] = tmc[t].to_json();
        d["model_constant"]["accuracy"] = double(lmc[t]) / double(tmc[t].n);
      }
      dec.push_back(d);
    }
    s["decisions"] = dec;
    subsets[name] = s;
  }
  std::size_t n_train = xp.size(), n_val = 0, n_test = 0;
  for (const auto& r : fit.rows) n_val += r.subset == "validation", n_test += r.subset == "test";
  fit.calibration.report = {{"probe_g", options.probe_g},
                            {"second_g", options.second_g},
                            {"coverage", options.coverage},
                            {"labels",
                             {{"train", n_train},
                              {"validation", n_val},
                              {"test", n_test},
                              {"without_history", fit.skipped_unconverged_rule}}},
                            {"subsets", subsets}};
  if (!res_cv.empty())
    fit.calibration.report["cross_validation"] = {{"folds", folds.size()},
                                                  {"n", res_cv.size()},
                                                  {"mean_abs_dsc", mean_abs(res_cv)},
                                                  {"half_width_alone", conformal_half_width(res_cv, options.coverage)}};
  if (fit.calibration.model)
    fit.calibration.report["model_validation_half_width"] = conformal_half_width(res_model, options.coverage);
  return fit;
}

std::string calibration_table(const Calibration& c) {
  const auto& rep = c.report;
  std::string s;
  if (c.probe) {
    const std::string movement =
        c.probe->second_g > 0 ? fmt::format(" {:+.4f} (SC_{} - SC_probe)", c.probe->gamma, c.probe->second_g) : "";
    s += fmt::format(
        "probe: first shell >= {} G; 1 - SC = {:.4f} + {:.4f} (1 - SC_probe){}; {:.0f} % interval ± {:.4f} "
        "(fitted on {} training labels, calibrated on {} validation labels)\n",
        c.probe->probe_g, c.probe->alpha, c.probe->beta, movement, 100 * c.probe->coverage, c.probe->half_width,
        c.probe->n_fit, c.probe->n_calibration);
  }
  if (c.model)
    s += fmt::format("model: {:.0f} % interval ± {:.4f} ({})\n", 100 * c.model->coverage, c.model->half_width,
                     c.model->method());
  if (!rep.contains("subsets")) return s;
  s += "\n| materials | n | evidence | mean abs dSC | max abs dSC | coverage |";
  std::vector<double> ths;
  for (const auto& d : rep["subsets"]["validation+test"].value("decisions", nlohmann::json::array()))
    ths.push_back(d["threshold"].get<double>());
  for (double t : ths) s += fmt::format(" right at {:.2f} (unc.; definite) |", t);
  s += "\n|---|---|---|---|---|---|";
  for (std::size_t i = 0; i < ths.size(); ++i) s += "---|";
  s += "\n";
  for (const auto& [name, sub] : rep["subsets"].items()) {
    if (sub.value("n", 0) == 0) continue;
    // (the constant twice: on the probe's materials, and on the model's, which include those without a probe block)
    for (const char* ev : {"probe", "constant", "model", "model_constant"}) {
      const bool on_model = std::string(ev) == "model_constant";
      if (!sub.contains(on_model ? "model" : ev)) continue;
      nlohmann::json e =
          on_model ? nlohmann::json{{"n", sub["model"]["n"]}, {"mean_abs_dsc", sub["model"]["constant_mean_abs_dsc"]}}
                   : sub[ev];
      if (!e.contains("mean_abs_dsc") || e["mean_abs_dsc"].is_null()) continue;
      const std::string label = on_model                        ? "constant (the model's materials)"
                                : std::string(ev) == "constant" ? "constant (the probe's materials)"
                                                                : std::string(ev);
      // a coverage on the set that calibrated the interval is in-sample: marked *
      const std::string cov = e.contains("coverage")
                                  ? fmt::format("{:.2f}{}", e["coverage"].get<double>(),
                                                e.value("coverage_includes_calibration_set", false) ? "*" : "")
                                  : "";
      s += fmt::format("| {} | {} | {} | {:.4f} | {} | {} |", name, e.value("n", sub["n"].get<int>()), label,
                       e["mean_abs_dsc"].get<double>(),
                       e.contains("max_abs_dsc") ? fmt::format("{:.3f}", e["max_abs_dsc"].get<double>()) : "", cov);
      for (const auto& d : sub["decisions"]) {
        if (!d.contains(ev)) {
          s += " |";
          continue;
        }
        const auto& x = d[ev];
        s += fmt::format(" {:.1f} % ({}; {}/{}) |", 100 * x["accuracy"].get<double>(), x["uncertain"].get<int>(),
                         x["right"].get<int>(), x["right"].get<int>() + x["wrong"].get<int>());
      }
      s += "\n";
    }
  }
  s += "\n(right: the decision launches the RPA exactly when the converged SC lies below the threshold; an\n"
       "'uncertain' decision launches it; in brackets the number of uncertain decisions, then how many of the\n"
       "definite ones, ipa-sufficient and rpa-needed, are right; * a coverage that includes the validation\n"
       "materials, which calibrated the interval: in-sample, the test materials are the check)\n";
  return s;
}

}  // namespace rung::select
