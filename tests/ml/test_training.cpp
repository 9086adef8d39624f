// Training: a tiny network overfits 10 structures with synthetic spectra, runs are deterministic
// given the seed, transfer learning starts from the given weights, the split files are honoured.
#include "core/error.hpp"
#include "core/units.hpp"
#include "ml/dataset_file.hpp"
#include "ml/predictor.hpp"
#include "ml/trainer.hpp"
#include "support/paths.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

#include <cmath>
#include <fstream>
#include <random>

using namespace rung;
using namespace rung::ml;
namespace fs = std::filesystem;

namespace {

fs::path training_tmp(const std::string& name) {
  const auto d = fs::temp_directory_path() / "rung_test_training";
  fs::create_directories(d);
  return d / name;
}

// Ten binary rocksalt-like crystals with different elements and lattice constants; each gets a
// Gaussian "spectrum" whose centre and height depend on the structure (a learnable synthetic target).
OptimateDataset synthetic(int n = 10) {
  OptimateDataset d;
  const int cations[] = {3, 11, 19, 37, 4, 12, 20, 38, 13, 31};
  const int anions[] = {9, 17, 35, 53, 8, 16, 34, 52, 7, 15};
  for (int k = 0; k < n; ++k) {
    DatasetMaterial m;
    m.id = "syn" + std::to_string(k);
    const double a = 4.0 + 0.25 * k;
    m.structure.lattice << 0, a / 2, a / 2, a / 2, 0, a / 2, a / 2, a / 2, 0;
    m.structure.lattice *= units::Ang_to_Bohr(1.0);
    m.structure.frac = {{0, 0, 0}, {0.5, 0.5, 0.5}};
    m.structure.numbers = {cations[k % 10], anions[(k * 3) % 10]};
    m.eps_imag_ipa.resize(2001);
    m.eps_imag_rpa.resize(2001);
    const double c = 3.0 + 1.3 * k, h = 2.0 + 0.4 * (k % 4);
    for (int i = 0; i < 2001; ++i) {
      const double e = 0.01 * i;
      m.eps_imag_ipa[i] = float(h * std::exp(-(e - c) * (e - c)));
      m.eps_imag_rpa[i] = float(0.8 * h * std::exp(-(e - c - 0.4) * (e - c - 0.4)));
    }
    m.sc_ipa_rpa = 0.3 + 0.05 * k;
    d.materials.push_back(m);
  }
  return d;
}

const char* kTiny = R"({"node_mlp":[16,16],"gat":[[8,2],[8,2]],"out_mlp":[64]})";

double l1_against(const SpectrumPredictor& p, const OptimateDataset& d, Target t) {
  std::vector<Structure> s;
  for (const auto& m : d.materials) s.push_back(m.structure);
  const auto r = p.predict(s);
  double sum = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (t == Target::sc) {
      sum += std::abs(*r[i].sc - *d.materials[i].sc_ipa_rpa);
      ++n;
      continue;
    }
    for (std::size_t k = 0; k < 2001; ++k, ++n) sum += std::abs(r[i].spectrum[k] - d.materials[i].eps_imag_ipa[k]);
  }
  return sum / double(n);
}

// Every material in the training set (so that the tiny network can memorise all ten).
fs::path all_train_split(const OptimateDataset& d) {
  const auto dir = training_tmp("split_all_train");
  fs::create_directories(dir);
  std::ofstream tr(dir / "train_set.txt");
  for (const auto& m : d.materials) tr << m.id << "\n";
  std::ofstream(dir / "validation_set.txt") << "";
  std::ofstream(dir / "test_set.txt") << "";
  return dir;
}

// The paper-style split files for synthetic(10): syn0-5 train, syn6-7 validation, syn8-9 test.
fs::path six_two_two_split(const std::string& name) {
  const auto dir = training_tmp(name);
  fs::create_directories(dir);
  std::ofstream(dir / "train_set.txt") << "syn0\nsyn1\nsyn2\nsyn3\nsyn4\nsyn5\n";
  std::ofstream(dir / "validation_set.txt") << "syn6\nsyn7\n";
  std::ofstream(dir / "test_set.txt") << "syn8\nsyn9\n";
  return dir;
}

}  // namespace

TEST_CASE("training: a tiny network overfits 10 structures", "[unit][ml][train]") {
  const auto data = synthetic();
  TrainOptions t;
  t.arch = kTiny;
  t.epochs = 300;
  t.batch = 5;
  t.lr = 3e-3;
  t.weight_decay = 0;
  t.val_every = 50;
  t.progress = false;
  t.split_dir = all_train_split(data);
  const auto path = training_tmp("overfit.h5");
  const auto r = train_model(data, "synthetic", t, path);
  CHECK(r.counts.train == 10);
  CHECK(r.counts.from_split_files == 10);
  REQUIRE(r.train_loss.size() == 300);
  // The mean |target| is ~0.4; an untrained net is at that level, memorisation far below.
  INFO("first epoch L1 " << r.train_loss.front() << ", last " << r.train_loss.back());
  CHECK(r.train_loss.back() < 0.2 * r.train_loss.front());
  const auto p = SpectrumPredictor::load(path);
  CHECK_FALSE(p.info().untrained);
  CHECK(p.info().training_dataset == "synthetic");
  CHECK(l1_against(p, data, Target::ipa) < 0.05);
  // The file records its training domain (ten 2-atom cells, their 20 elements) and predictions outside
  // it say so: a training structure has no warning, a 3-atom cell and an unseen element (Si) each one.
  REQUIRE(p.info().domain);
  CHECK(p.info().domain->max_atoms == 2);
  CHECK(p.info().domain->structures == 10);
  CHECK(p.info().weights == "float16");
  Structure three = data.materials[0].structure;
  three.frac.push_back({0.25, 0.25, 0.25});
  three.numbers.push_back(14);
  const auto pr = p.predict({data.materials[0].structure, three});
  CHECK(pr[0].warnings.empty());
  REQUIRE(pr[1].warnings.size() == 2);
  CHECK_THAT(pr[1].warnings[0], Catch::Matchers::Contains("Si never seen"));
  CHECK_THAT(pr[1].warnings[1], Catch::Matchers::Contains("3 atoms"));
  // Predicted spectra are reported non-negative (clipped, then smoothed).
  CHECK(*std::min_element(pr[1].spectrum.begin(), pr[1].spectrum.end()) >= 0.0);
}

TEST_CASE("training: deterministic given the seed, and --init starts from the given weights", "[unit][ml][train]") {
  const auto data = synthetic();
  TrainOptions t;
  t.arch = kTiny;
  t.epochs = 3;
  t.batch = 4;
  t.progress = false;
  t.seed = 11;
  const auto a = training_tmp("det_a.h5"), b = training_tmp("det_b.h5"), c = training_tmp("det_c.h5");
  train_model(data, "synthetic", t, a);
  train_model(data, "synthetic", t, b);
  t.seed = 12;
  train_model(data, "synthetic", t, c);
  const auto pa = SpectrumPredictor::load(a), pb = SpectrumPredictor::load(b), pc = SpectrumPredictor::load(c);
  const auto ra = pa.predict({data.materials[0].structure}), rb = pb.predict({data.materials[0].structure}),
             rc = pc.predict({data.materials[0].structure});
  CHECK(ra[0].spectrum == rb[0].spectrum);  // bitwise
  CHECK(ra[0].spectrum != rc[0].spectrum);

  // Transfer learning with zero epochs keeps the initial model exactly; a fine-tune moves it.
  TrainOptions ti;
  ti.init = a;
  ti.epochs = 0;
  ti.progress = false;
  ti.target = Target::rpa;
  const auto d = training_tmp("init0.h5");
  train_model(data, "synthetic", ti, d);
  const auto rd = SpectrumPredictor::load(d).predict({data.materials[0].structure});
  CHECK(rd[0].spectrum == ra[0].spectrum);
  CHECK(SpectrumPredictor::load(d).info().target == Target::rpa);
  CHECK_FALSE(SpectrumPredictor::load(d).info().untrained);
  ti.epochs = 2;
  ti.lr = 1e-3;
  ti.batch = 4;
  train_model(data, "synthetic", ti, d);
  const auto re = SpectrumPredictor::load(d).predict({data.materials[0].structure});
  CHECK(re[0].spectrum != ra[0].spectrum);
  // A starting model trained on another data set (another fingerprint) is refused, naming the flag: its training
  // materials may be this run's test materials; with the flag it is used.
  ti.epochs = 0;
  CHECK_THROWS_WITH(train_model(data, "another-data-set", ti, training_tmp("foreign.h5")),
                    Catch::Matchers::Contains("--allow-foreign-init"));
  ti.allow_foreign_init = true;
  CHECK_NOTHROW(train_model(data, "another-data-set", ti, training_tmp("foreign.h5")));
  // ... but not on another energy grid, flag or not: its outputs would be fine-tuned against other energies
  auto shifted = data;
  shifted.grid = EnergyGrid{0.0, 10.0, 2001};
  CHECK_THROWS_WITH(train_model(shifted, "another-data-set", ti, training_tmp("foreign.h5")),
                    Catch::Matchers::Contains("energy grid"));
  ti.allow_foreign_init = false;
  // The same kind of split as the starting model: `a` was split by the formula hash, so a transfer on split lists
  // is refused (the hash split's training materials may be in the lists' test subset), naming --split; and a start
  // trained on lists refuses a transfer without them.
  ti.split_dir = all_train_split(data);
  CHECK_THROWS_WITH(train_model(data, "synthetic", ti, training_tmp("mixed.h5")),
                    Catch::Matchers::Contains("without split lists") && Catch::Matchers::Contains("--split"));
  TrainOptions listed = t;
  listed.epochs = 0;
  listed.split_dir = ti.split_dir;
  const auto l = training_tmp("listed.h5");
  train_model(data, "synthetic", listed, l);
  ti.init = l;
  CHECK_NOTHROW(train_model(data, "synthetic", ti, training_tmp("listed_tl.h5")));
  ti.split_dir.reset();
  CHECK_THROWS_WITH(train_model(data, "synthetic", ti, training_tmp("mixed.h5")),
                    Catch::Matchers::Contains("was trained on the split in"));
  ti.init = a;
  // An SC model cannot start from a spectrum model.
  ti.target = Target::sc;
  CHECK_THROWS_AS(train_model(data, "synthetic", ti, training_tmp("bad.h5")), Error);
}

TEST_CASE("training: the SC target and the split files", "[unit][ml][train]") {
  auto data = synthetic();
  data.materials[3].sc_ipa_rpa.reset();  // no SC for this one: skipped
  const auto dir = six_two_two_split("split_sc");
  TrainOptions t;
  t.target = Target::sc;
  t.arch = R"({"node_mlp":[8],"gat":[[4,2]],"out_mlp":[8]})";
  t.epochs = 4;
  t.batch = 3;
  t.val_every = 2;
  t.split_dir = dir;
  t.progress = false;
  t.ensemble = 2;
  const auto r = train_model(data, "synthetic", t, training_tmp("sc.h5"));
  CHECK(r.counts.train == 5);
  CHECK(r.counts.validation == 2);
  CHECK(r.counts.test == 2);
  CHECK(r.counts.skipped == 1);
  CHECK(r.info.metrics["test"]["n"] == 2);
  CHECK(r.info.metrics["test"].contains("median_abs_sc_error"));
  const auto p = SpectrumPredictor::load(training_tmp("sc.h5"));
  CHECK(p.info().ensemble_size == 2);
  const auto pred = p.predict({data.materials[0].structure});
  CHECK(pred[0].sc_spread.has_value());
  // A learning-curve point: 3 of the 5 training materials, validation and test untouched.
  t.ensemble = 1;
  t.max_train = 3;
  const auto r3 = train_model(data, "synthetic", t, training_tmp("sc3.h5"));
  CHECK(r3.counts.train == 3);
  CHECK(r3.counts.validation == 2);
  CHECK(r3.info.training["max_train"] == 3);
  REQUIRE(r3.info.domain);
  CHECK(r3.info.domain->structures == 3);
  t.max_train = 50;  // more than there are: all of them
  CHECK(train_model(data, "synthetic", t, training_tmp("sc50.h5")).counts.train == 5);
}

TEST_CASE("training: an ipa model can learn the IPA-lite tier's spectra (pretraining)", "[unit][ml][train]") {
  auto data = synthetic();
  const std::size_t n = data.materials.size();
  // three materials have only a lite spectrum, two have both
  for (std::size_t k = 0; k < 5; ++k) data.materials[k].eps_imag_lite = data.materials[k].eps_imag_ipa;
  for (std::size_t k = 0; k < 3; ++k) data.materials[k].eps_imag_ipa.clear();
  TrainOptions t;
  t.target = Target::ipa;
  t.arch = R"({"node_mlp":[8],"gat":[[4,2]],"out_mlp":[8]})";
  t.epochs = 2;
  t.batch = 4;
  t.progress = false;
  const auto count = [&](const std::string& source) {
    t.ipa_source = parse_ipa_source(source);
    const auto r = train_model(data, "synthetic", t, training_tmp("lite_" + source + ".h5"));
    CHECK(r.info.training["ipa_source"] == source);
    return r;
  };
  CHECK(count("full").counts.skipped == 3);
  CHECK(count("lite").counts.skipped == n - 5);
  const auto any = count("any");
  CHECK(any.counts.skipped == 0);
  // the stored metrics are against the full IPA spectra only: the three lite-only materials are not scored
  const auto full = count("full");
  CHECK(any.info.metrics["test"]["n"] == full.info.metrics["test"]["n"]);
  CHECK(any.info.metrics["validation"]["n"] == full.info.metrics["validation"]["n"]);
  CHECK_THROWS_WITH(parse_ipa_source("other"), Catch::Contains("full, lite or any"));
  CHECK(to_string(parse_ipa_source("lite")) == "lite");
  t.ipa_source = IpaSource::any;
  t.target = Target::rpa;
  CHECK_THROWS_WITH(train_model(data, "synthetic", t, training_tmp("bad_target.h5")),
                    Catch::Contains("ipa target only"));
}

TEST_CASE("training: bad options and data are refused", "[unit][ml][train][errors]") {
  const auto data = synthetic(3);
  TrainOptions t;
  t.arch = kTiny;
  t.progress = false;
  t.batch = 1;
  CHECK_THROWS_AS(train_model(data, "x", t, training_tmp("e1.h5")), Error);
  t.batch = 4;
  CHECK_THROWS_AS(train_model(OptimateDataset{}, "x", t, training_tmp("e2.h5")), Error);  // no training data
  auto bad = synthetic(3);
  bad.materials[0].structure.numbers[0] = 26;  // Fe
  try {
    train_model(bad, "x", t, training_tmp("e3.h5"));
    FAIL("trained on iron");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("syn0"));
  }
  CHECK_FALSE(fs::exists(training_tmp("e3.h5")));
  // A material with an atom that has no neighbour within the 5 Angstrom cut-off (one Na in a 6 Angstrom cube):
  // the network, without self loops, would not see its element.
  auto lonely = synthetic(3);
  DatasetMaterial m = lonely.materials[0];
  m.id = "lonely";
  m.structure.lattice = Eigen::Matrix3d::Identity() * units::Ang_to_Bohr(6.0);
  m.structure.frac = {Eigen::Vector3d(0, 0, 0)};
  m.structure.numbers = {11};
  lonely.materials.push_back(m);
  try {
    train_model(lonely, "x", t, training_tmp("e4.h5"));
    FAIL("trained on an atom the network cannot see");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("lonely") && Catch::Matchers::Contains("5 Angstrom"));
  }
}

TEST_CASE("training: the paper's gap filters, and a model evaluated on its test split", "[unit][ml][train][evaluate]") {
  auto data = synthetic();
  data.materials[1].gap_eV = 0.2;                                 // below 0.5 eV: dropped (doc/ml-model.md)
  data.materials[2].provenance = R"({"direct_gap_eV": 12.5})";    // direct gap above 10 eV: dropped
  data.materials[3].gap_eV = 0.7;                                 // kept
  // a lite-only material keeps its record (and direct gap) under "lite": dropped too (it was kept before 2026-12-05)
  data.materials[4].provenance = R"({"status": "pending", "lite": {"direct_gap_eV": 11.0}})";
  // a material whose full tier failed keeps its gap in its lite record (no gap_eV of its own): 0.3 eV, dropped
  data.materials[5].provenance = R"({"status": "failed", "lite": {"gap_eV": 0.3, "direct_gap_eV": 0.4}})";
  const auto dir = six_two_two_split("split_eval");
  TrainOptions t;
  t.target = Target::rpa;
  t.arch = kTiny;
  t.epochs = 4;
  t.batch = 2;
  t.val_every = 2;
  t.split_dir = dir;
  t.progress = false;
  t.ensemble = 2;
  const auto path = training_tmp("eval_rpa.h5");
  const auto r = train_model(data, "synthetic", t, path);
  CHECK(r.counts.filtered == 4);
  CHECK(r.counts.train == 2);
  CHECK(r.counts.test == 2);
  CHECK(r.info.training["filters"]["min_gap_eV"] == 0.5);

  // The IPA-as-RPA baseline on the test materials, by an independent trapezoid rule (paper's SC/MSE,
  // the true RPA spectrum as reference).
  auto baseline = [&](const DatasetMaterial& m) {
    double num = 0, den = 0, sq = 0;
    for (int i = 0; i + 1 < 2001; ++i) {
      auto d = [&](int k) { return double(m.eps_imag_ipa[k]) - double(m.eps_imag_rpa[k]); };
      num += 0.5 * 0.01 * (std::abs(d(i)) + std::abs(d(i + 1)));
      sq += 0.5 * 0.01 * (d(i) * d(i) + d(i + 1) * d(i + 1));
      den += 0.5 * 0.01 * (std::abs(double(m.eps_imag_rpa[i])) + std::abs(double(m.eps_imag_rpa[i + 1])));
    }
    return std::pair{1 - num / den, sq / 20.0};
  };
  const auto [sc8, mse8] = baseline(data.materials[8]);
  const auto [sc9, mse9] = baseline(data.materials[9]);

  const auto e = evaluate_model(path, data, dir, Subset::test);
  INFO(e.metrics.dump());
  CHECK(e.metrics["n"] == 2);
  CHECK(e.metrics["filtered"] == 4);
  // Re-evaluating the file reproduces the metrics stored at training time (same weights, same set).
  CHECK(e.metrics["median_sc"].get<double>() == Approx(r.info.metrics["test"]["median_sc"].get<double>()).margin(1e-6));
  CHECK(e.metrics["median_mse"].get<double>() ==
        Approx(r.info.metrics["test"]["median_mse"].get<double>()).margin(1e-6));
  // Trapezoid sums in a different order: agree to float32 input precision.
  CHECK(e.metrics["ipa_as_rpa"]["median_sc"].get<double>() == Approx(0.5 * (sc8 + sc9)).margin(1e-6));
  CHECK(e.metrics["ipa_as_rpa"]["median_mse"].get<double>() == Approx(0.5 * (mse8 + mse9)).epsilon(1e-6));
  REQUIRE(e.per_material.size() == 2);
  CHECK(e.per_material[0]["id"] == "syn8");
  CHECK(e.per_material[1]["ipa_as_rpa_sc"].get<double>() == Approx(sc9).margin(1e-6));
  CHECK(evaluate_model(path, data, dir, Subset::validation).metrics["n"] == 2);
  CHECK_THROWS_AS(parse_subset("everything"), Error);
}

TEST_CASE("training: an epoch's batches cover every material once, a small remainder joins the last batch",
          "[unit][ml][train]") {
  using B = std::vector<std::pair<std::size_t, std::size_t>>;
  // 382 at batch 20 (round 15's from-scratch model): the 2 left over join the 19th batch
  const auto b382 = epoch_batches(382, 20);
  REQUIRE(b382.size() == 19);
  CHECK(b382.back() == std::pair<std::size_t, std::size_t>{360, 382});
  // 372 at batch 20: a remainder of 12 (at least a quarter of a batch) is a batch of its own, as before
  CHECK(epoch_batches(372, 20).back() == std::pair<std::size_t, std::size_t>{360, 372});
  CHECK(epoch_batches(341, 64).size() == 6);  // 21 left over: their own batch
  CHECK(epoch_batches(9, 8) == B{{0, 9}});
  CHECK(epoch_batches(10, 4) == B{{0, 4}, {4, 8}, {8, 10}});
  CHECK(epoch_batches(1, 32).empty());  // one graph: nothing BatchNorm can train on
  CHECK(epoch_batches(33, 32) == B{{0, 33}});
  CHECK(epoch_batches(9, 2).back() == std::pair<std::size_t, std::size_t>{6, 9});  // no material left out
  for (std::size_t n = 2; n < 300; n += 7)
    for (std::size_t batch : {2, 3, 5, 20, 32, 64}) {
      std::size_t next = 0;
      for (const auto& [s, e] : epoch_batches(n, batch)) {
        REQUIRE(s == next);  // contiguous, in order, none left out
        REQUIRE(e - s >= 2);
        REQUIRE(e - s < batch + std::max<std::size_t>(batch / 4, 2));
        next = e;
      }
      REQUIRE(next == n);
    }
  CHECK_THROWS_AS(epoch_batches(10, 0), Error);
}

TEST_CASE("training: the relative loss is 1 - SC per material, averaged, and is what the model is told",
          "[unit][ml][train]") {
  // hand-checked: row 1 |1-2|+|3-3| = 1 over |2|+|3| = 5 -> 0.2; row 2 |0-1|+|0-1| = 2 over 2 -> 1; mean 0.6
  CHECK(mean_relative_l1({{1, 3}, {0, 0}}, {{2, 3}, {1, 1}}) == Approx(0.6).epsilon(1e-12));
  // a material twice as large in Im eps weighs the same (the L1 over all values would weigh it twice)
  CHECK(mean_relative_l1({{2, 6}}, {{4, 6}}) == Approx(0.2).epsilon(1e-12));
  CHECK_THROWS_AS(mean_relative_l1({{1}}, {{1, 2}}), Error);
  CHECK(parse_loss("relative") == Loss::relative);
  CHECK(to_string(parse_loss("l1")) == "l1");
  CHECK_THROWS_WITH(parse_loss("mse"), Catch::Contains("l1, relative or mixed"));
  // mixed: half the relative loss (0.6 above), half the pooled one: (1 + 2) / (5 + 2) = 3/7
  CHECK(mixed_relative_l1({{1, 3}, {0, 0}}, {{2, 3}, {1, 1}}) == Approx(0.5 * (0.6 + 3.0 / 7.0)).epsilon(1e-12));
  // a strong absorber weighs more than under the relative loss: one row 10x larger, same relative error
  CHECK(mixed_relative_l1({{0.9F}, {9.0F}}, {{1}, {10}}) == Approx(0.5 * (0.1 + 1.1 / 11.0)).epsilon(1e-6));
  CHECK(mixed_relative_l1({{0.9F}, {10}}, {{1}, {10}}) < mixed_relative_l1({{1}, {9.0F}}, {{1}, {10}}));
  CHECK(to_string(parse_loss("mixed")) == "mixed");
  auto data = synthetic();
  TrainOptions t;
  t.target = Target::rpa;
  t.arch = R"({"node_mlp":[8],"gat":[[4,2]],"out_mlp":[8]})";
  t.epochs = 40;
  t.val_every = 1;
  t.batch = 4;
  t.lr = 1e-2;
  t.progress = false;
  t.loss = Loss::relative;
  const auto r = train_model(data, "synthetic", t, training_tmp("relative.h5"));
  CHECK(r.info.training["loss"].get<std::string>().rfind("relative", 0) == 0);
  // the epoch-mean training loss is a mean of 1 - SC: it starts near 1 and falls as the network learns
  REQUIRE(r.train_loss.size() == 40);
  CHECK(r.train_loss.front() > 0.5);
  CHECK(r.train_loss.back() < r.train_loss.front());
  t.loss = Loss::mixed;
  t.epochs = 20;
  const auto m = train_model(data, "synthetic", t, training_tmp("mixed.h5"));
  CHECK(m.info.training["loss"].get<std::string>().rfind("mixed", 0) == 0);
  CHECK(m.train_loss.back() < m.train_loss.front());
  t.loss = Loss::relative;
  t.target = Target::sc;
  CHECK_THROWS_WITH(train_model(data, "synthetic", t, training_tmp("relative_sc.h5")), Catch::Contains("sc target"));
}

TEST_CASE("split: a material the lists do not name joins its formula's subset, an id in two lists is refused",
          "[unit][ml][train]") {
  auto data = synthetic();
  // syn10: another polymorph of syn8's formula (a test material), under an id no list names
  DatasetMaterial poly = data.materials[8];
  poly.id = "syn10";
  poly.structure.lattice *= 1.1;
  data.materials.push_back(poly);
  const auto dir = training_tmp("split-by-formula");
  fs::create_directories(dir);
  std::ofstream(dir / "train_set.txt") << "syn0\nsyn1\nsyn2\nsyn3\nsyn4\nsyn5\n";
  std::ofstream(dir / "validation_set.txt") << "syn6\nsyn7\n";
  std::ofstream(dir / "test_set.txt") << "syn8\nsyn9\n";
  const auto s = assign_split(data, dir);
  REQUIRE(s.subset.size() == 11);
  CHECK(s.subset[10] == Subset::test);  // with syn8, never in training
  CHECK(s.from_files == 10);
  std::ofstream(dir / "test_set.txt", std::ios::app) << "syn0\n";
  CHECK_THROWS_WITH(assign_split(data, dir), Catch::Contains("syn0 is in both train_set.txt and test_set.txt"));
}

TEST_CASE("split: an unlisted polymorph of a formula listed in several subsets joins the most protective one",
          "[unit][ml][train]") {
  auto data = synthetic();
  const auto polymorph = [&](std::size_t of, const std::string& id, double scale) {
    DatasetMaterial m = data.materials[of];
    m.id = id;
    m.structure.lattice *= scale;
    data.materials.push_back(m);
  };
  polymorph(3, "syn10", 1.1);  // listed in test; syn3, of the same formula and earlier in the data, in train
  polymorph(3, "syn11", 1.2);  // unlisted
  polymorph(4, "syn12", 1.1);  // listed in validation; syn4 in train
  polymorph(4, "syn13", 1.2);  // unlisted
  const auto dir = training_tmp("split-protective");
  fs::create_directories(dir);
  std::ofstream(dir / "train_set.txt") << "syn0\nsyn1\nsyn2\nsyn3\nsyn4\nsyn5\n";
  std::ofstream(dir / "validation_set.txt") << "syn6\nsyn7\nsyn12\n";
  std::ofstream(dir / "test_set.txt") << "syn8\nsyn9\nsyn10\n";
  const auto s = assign_split(data, dir);
  REQUIRE(s.subset.size() == 14);
  CHECK(s.from_files == 12);
  CHECK(s.subset[3] == Subset::train);  // a listed material stays where its list puts it
  CHECK(s.subset[10] == Subset::test);
  CHECK(s.subset[11] == Subset::test);        // test, not the train of the first listed polymorph
  CHECK(s.subset[13] == Subset::validation);  // validation rather than train
}

namespace {
// The tiny architecture, without progress output, for tests that need a few epochs only.
TrainOptions quiet_tiny(int epochs, int batch, double lr) {
  TrainOptions t;
  t.arch = kTiny;
  t.epochs = epochs;
  t.batch = batch;
  t.lr = lr;
  t.progress = false;
  return t;
}
}  // namespace

TEST_CASE("training: a run whose loss is never finite is refused, not written as a trained model",
          "[unit][ml][train]") {
  const auto data = synthetic();
  auto t = quiet_tiny(3, 5, 1e30);  // Adam's steps are about the rate: float32 weights overflow after the first one
  t.weight_decay = 0;
  t.val_every = 1;
  t.split_dir = all_train_split(data);
  const auto path = training_tmp("diverged.h5");
  fs::remove(path);
  CHECK_THROWS_WITH(train_model(data, "synthetic", t, path), Catch::Contains("never reached a finite"));
  CHECK_FALSE(fs::exists(path));
}

// Every member records its learning curve at each check, and the kept checkpoint is the curve's minimum.
TEST_CASE("training: each member records its learning curve, whose lowest validation loss is the kept epoch",
          "[unit][ml][train]") {
  const auto data = synthetic();
  auto t = quiet_tiny(6, 3, 1e-3);
  t.val_every = 2;
  t.ensemble = 2;
  t.split_dir = six_two_two_split("curve-split");
  const auto trained = train_model(data, "synthetic", t, training_tmp("curve.h5"));
  const auto& members = trained.info.training["members"];
  REQUIRE(members.size() == 2);
  for (const auto& m : members) {
    const auto& c = m["curve"];
    CHECK(c["epoch"] == nlohmann::json({2, 4, 6}));  // every second epoch, the last included
    REQUIRE(c["train_loss"].size() == 3);
    REQUIRE(c["validation_loss"].size() == 3);
    std::size_t lowest = 0;
    for (std::size_t i = 1; i < 3; ++i)
      if (c["validation_loss"][i].get<double>() < c["validation_loss"][lowest].get<double>()) lowest = i;
    CHECK(m["best_epoch"] == c["epoch"][lowest]);
    // (stored to 6 significant digits)
    CHECK(m["best_validation_loss"].get<double>() == Approx(c["validation_loss"][lowest].get<double>()).epsilon(1e-5));
  }
  // the last member's training losses are the run's per-epoch ones, at the checked epochs
  CHECK(members[1]["curve"]["train_loss"][2].get<double>() == Approx(trained.train_loss.back()).epsilon(1e-5));

  // A long curve is thinned to at most 100 checks (the model file keeps it in an attribute), keeping the last
  // epoch and the kept one.
  auto longer = quiet_tiny(250, 3, 1e-3);
  longer.val_every = 1;
  longer.split_dir = t.split_dir;
  const auto many = train_model(data, "synthetic", longer, training_tmp("curve-long.h5"));
  const auto& m = many.info.training["members"][0];
  const auto& epochs = m["curve"]["epoch"];
  CHECK(epochs.size() >= 80);  // (every third of 250 checks, and the kept one)
  CHECK(epochs.size() <= 100);
  CHECK(epochs.front() == 1);
  CHECK(epochs.back() == 250);
  CHECK(std::find(epochs.begin(), epochs.end(), m["best_epoch"]) != epochs.end());
}

// --ema: the checks score and keep the weights' moving average. On the same seed (the same steps) the kept model
// differs from the plain run's, the option is recorded, and a rate outside [0, 1) is refused.
TEST_CASE("training: --ema keeps the weights' moving average", "[unit][ml][train]") {
  const auto data = synthetic();
  auto t = quiet_tiny(4, 3, 1e-3);
  t.val_every = 4;  // one check, at the end: the plain run keeps its last weights, the --ema run their average
  t.split_dir = six_two_two_split("ema-split");
  const auto plain_path = training_tmp("ema-plain.h5"), averaged_path = training_tmp("ema-avg.h5");
  const auto plain = train_model(data, "synthetic", t, plain_path);
  t.ema = 0.9;
  const auto averaged = train_model(data, "synthetic", t, averaged_path);
  CHECK(averaged.info.training["ema"] == 0.9);
  CHECK(plain.info.training["ema"] == 0.0);
  CHECK(averaged.train_loss == plain.train_loss);  // the same steps: the average does not feed back
  const auto s = data.materials[0].structure;
  const auto a = SpectrumPredictor::load(plain_path).predict({s}),
             b = SpectrumPredictor::load(averaged_path).predict({s});
  CHECK(a[0].spectrum != b[0].spectrum);
  // Without validation materials the average is scored on the training materials, and the curve says so.
  auto no_val = quiet_tiny(3, 3, 1e-3);
  no_val.ema = 0.9;
  no_val.val_every = 1;
  {
    const auto dir = training_tmp("ema-noval-split");
    fs::create_directories(dir);
    std::ofstream(dir / "train_set.txt") << "syn0\nsyn1\nsyn2\nsyn3\nsyn4\nsyn5\nsyn6\nsyn7\n";
    std::ofstream(dir / "validation_set.txt") << "";
    std::ofstream(dir / "test_set.txt") << "syn8\nsyn9\n";
    no_val.split_dir = dir;
  }
  const auto nv = train_model(data, "synthetic", no_val, training_tmp("ema-noval.h5"));
  const auto& m = nv.info.training["members"][0];
  REQUIRE(m["curve"].contains("checked_train_loss"));
  CHECK(m["curve"]["checked_train_loss"].size() == 3);
  CHECK_FALSE(m["curve"].contains("validation_loss"));
  for (double bad : {-0.1, 1.0}) {
    t.ema = bad;
    CHECK_THROWS_WITH(train_model(data, "synthetic", t, training_tmp("ema-bad.h5")), Catch::Contains("--ema"));
  }
}

TEST_CASE("conversion: the rebuilt training domain is the training set the model saw (--max-train)",
          "[unit][ml][train]") {
  const auto data = synthetic();
  auto t = quiet_tiny(2, 3, 1e-3);
  t.max_train = 4;  // of the six training materials of the split below
  t.split_dir = six_two_two_split("convert-split");
  const auto path = training_tmp("convert-in.h5");
  const auto trained = train_model(data, "synthetic", t, path);
  REQUIRE(trained.info.domain);
  CHECK(trained.info.domain->structures == 4);
  ConversionOptions c;
  c.weights = "float32";
  c.data = &data;
  c.data_fingerprint = "synthetic";
  c.data_name = "synthetic";
  c.split_dir = t.split_dir;
  const auto converted = convert_model(path, training_tmp("convert-out.h5"), c);
  REQUIRE(converted.info.domain);
  CHECK(converted.info.domain->structures == 4);  // not the six of the split
}

// A model that learned lite spectra: the metrics convert_model stores are evaluate_model's (full IPA spectra). And a
// model trained on split lists is converted or evaluated with them only.
TEST_CASE("conversion: an ipa model that learned lite spectra is scored on the full spectra, with its split lists",
          "[unit][ml][train][evaluate]") {
  auto data = synthetic();
  // every material has a lite spectrum (not the full one: 0.8 of it); syn1 (train), syn7 (validation) and syn9
  // (test) have only that
  for (auto& m : data.materials) {
    m.eps_imag_lite = m.eps_imag_ipa;
    for (auto& v : m.eps_imag_lite) v *= 0.8f;
  }
  data.materials[1].eps_imag_ipa.clear();
  data.materials[7].eps_imag_ipa.clear();
  data.materials[9].eps_imag_ipa.clear();
  auto t = quiet_tiny(2, 3, 1e-3);
  t.ipa_source = IpaSource::any;
  t.split_dir = six_two_two_split("convert-lite-split");
  const auto path = training_tmp("convert-lite-in.h5"), out = training_tmp("convert-lite-out.h5");
  const auto trained = train_model(data, "synthetic", t, path);
  CHECK(trained.counts.validation == 2);  // the training's sets: syn7 with its lite spectrum
  CHECK(trained.counts.test == 2);
  CHECK(trained.info.metrics["validation"]["n"] == 1);  // scored: syn6 and syn8 only, which have full spectra
  CHECK(trained.info.metrics["test"]["n"] == 1);
  CHECK(trained.info.training["members"][0].contains("best_validation_loss"));
  CHECK(trained.info.training["members"][0].contains("final_train_loss"));

  // Without the split lists the model was trained on, the formula hash would decide the subsets: refused.
  ConversionOptions c;
  c.data = &data;
  c.data_fingerprint = "synthetic";
  c.data_name = "synthetic";
  try {
    convert_model(path, out, c);
    FAIL("converted with another split than the training's");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("--split") && Catch::Matchers::Contains(t.split_dir->string()));
  }
  CHECK_THROWS_WITH(evaluate_model(path, data, std::nullopt, Subset::test), Catch::Contains("--split"));

  c.split_dir = t.split_dir;
  const auto converted = convert_model(path, out, c);
  for (const auto subset : {Subset::test, Subset::validation}) {
    const auto e = evaluate_model(out, data, t.split_dir, subset);
    const auto& stored = converted.info.metrics[to_string(subset)];
    INFO(to_string(subset) << ": stored " << stored.dump() << ", evaluated " << e.metrics.dump());
    CHECK(stored["n"] == 1);
    CHECK(e.metrics["n"] == stored["n"]);
    for (const char* k : {"median_sc", "median_mse", "median_mae"})
      CHECK(e.metrics[k].get<double>() == Approx(stored[k].get<double>()).margin(1e-6));
  }
  // the float32 outputs kept for conversion_change are those of the validation materials scored
  CHECK(conversion_change(out, data)["n"] == 1);
}
