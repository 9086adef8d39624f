#include "response/spectrum_driver.hpp"

#include "core/metrics.hpp"
#include "core/paper.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/text.hpp"
#include "core/thread_pools.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "io/qe/save.hpp"
#include "io/yambo/qe_save.hpp"
#include "response/chi0_direct.hpp"
#include "response/dyson.hpp"
#include "response/oscillator_table.hpp"
#include "response/transitions.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <exception>
#include <fmt/format.h>

namespace rung::response {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The body's oscillators (oscillators.hpp): single precision on the fast route, whose chi0 is stored in single
// precision anyway; double on the direct route (the reference).
OscillatorPrecision body_precision(Chi0Method m) {
  return m == Chi0Method::fast ? OscillatorPrecision::single_precision : OscillatorPrecision::double_precision;
}

// The Drude term (occupations.hpp): ε_D = −ω_p² / (ω (ω + iγ)) added to the head of chi0 as
// H_D = ω_p² / (4π ω (ω + iγ)) at the real frequency, so that ε_o = 1 − 4π q̂ᵀHq̂ carries it and the Dyson equation
// sees it.
// (compute_spectrum has refused --drude on an insulator before building chi0.)
nlohmann::json add_drude(Chi0& chi, const SpectrumOptions& o, const Occupations& occ, const TransitionSource& source,
                         const Comm& comm) {
  const DrudeOptions& d = o.drude;
  if (d.plasma == DrudeOptions::Plasma::off) return {};
  Eigen::Matrix3d wp2 = Eigen::Matrix3d::Zero();
  nlohmann::json j;
  if (d.plasma == DrudeOptions::Plasma::given) {
    wp2 = Eigen::Matrix3d::Identity() * std::pow(units::eV_to_Ha(d.plasma_eV), 2);
    j["plasma_source"] = "given";
  } else {
    const double T = d.temperature_K > 0 ? d.temperature_K : occ.temperature_K;
    if (!(T > 0))
      fail_usage("--drude auto needs a temperature for -df/de: --drude-temperature K (QE's occupations carry none)");
    const double kT = T * units::boltzmann_Ha_per_K;
    const auto [k0, k1] = comm.block(source.n_irreducible_kpoints());
    // each rank reads its own k-points' wavefunctions: a failure there is one rank's, raised on every rank before
    // the sum (as the transitions' is, below)
    std::exception_ptr failure;
    try {
      for (std::size_t ik = k0; ik < k1; ++ik) wp2 += source.intraband_tensor(ik, kT);
    } catch (...) {
      failure = std::current_exception();
    }
    comm.rethrow_on_every_rank(failure);
    comm.sum(wp2.data(), 9);
    wp2 *= units::four_pi / source.volume();  // intraband_tensor carries each star's share of the zone
    j["plasma_source"] = "intraband velocities";
    j["temperature_K"] = T;
  }
  const double gamma = units::eV_to_Ha(d.damping_eV);
  for (std::size_t i = chi.first; i < chi.first + chi.held; ++i) {  // the frequencies this rank holds
    // on the real axis, as YAMBO's X_drude evaluates it: γ alone damps the free carriers (evaluated at ω + iη,
    // the interband broadening, Re ε_D would turn positive below ~η). ω = 0, where ε_D diverges (Im ~ 1/ω), is
    // taken at drude_omega_floor_Ha, YAMBO's floor too
    const double w = std::max(std::abs(chi.omega[i]), drude_omega_floor_Ha);
    const Complex factor = 1.0 / (units::four_pi * w * (w + Complex(0, gamma)));
    chi.at(i).topLeftCorner(3, 3) += (factor * wp2.cast<Complex>()).cast<Chi0Scalar>();
  }
  j["plasma_eV"] = units::Ha_to_eV(std::sqrt(std::max(0.0, wp2.trace() / 3)));
  j["plasma_tensor_eV2"] = nlohmann::json::array();
  for (int a = 0; a < 3; ++a)
    j["plasma_tensor_eV2"].push_back({units::Ha_to_eV(units::Ha_to_eV(wp2(a, 0))), units::Ha_to_eV(units::Ha_to_eV(wp2(a, 1))),
                                      units::Ha_to_eV(units::Ha_to_eV(wp2(a, 2)))});
  j["damping_eV"] = d.damping_eV;
  j["formula"] = "eps_D = -wp^2 / (w (w + i gamma)), real w (at least 1e-8 Ha)";
  return j;
}

// Plane waves per irreducible k-point, averaged (what the oscillators' cost grows with); 0 if the save lacks them.
double mean_plane_waves(const qe::Save& save) {
  double sum = 0;
  std::size_t n = 0;
  for (int v : save.npw)
    if (v > 0) sum += v, ++n;
  return n ? sum / double(n) : 0.0;
}

// The response computed on grid.subgrid(stride), interpolated to every frequency of `grid`: ε is linear in χ̄
// and H, so interpolating them element by element is interpolating every ε the set reports.
MacroscopicResponse interpolate_response(const EnergyGrid& grid, std::size_t stride,
                                         const MacroscopicResponse& coarse) {
  auto one = [&](const std::vector<Eigen::Matrix3cd>& in) {
    std::vector<Eigen::Matrix3cd> out(grid.steps);
    std::vector<Complex> column(in.size());
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        for (std::size_t i = 0; i < in.size(); ++i) column[i] = in[i](a, b);
        const auto fine = interpolate_subgrid(grid, stride, column);
        for (std::size_t i = 0; i < fine.size(); ++i) out[i](a, b) = fine[i];
      }
    return out;
  };
  return MacroscopicResponse{one(coarse.chi_lf), one(coarse.chi_nolf)};
}

}  // namespace

Theory parse_theory(const std::string& s) {
  const auto l = lower(s);
  if (l == "ipa" || l == "ip") return Theory::ipa;
  if (l == "rpa" || l == "hartree") return Theory::rpa;
  fail_usage("--theory must be ipa or rpa, not '" + s + "'");
}

Chi0Method parse_method(const std::string& s) {
  const auto l = lower(s);
  if (l == "fast" || l == "spectral") return Chi0Method::fast;
  if (l == "direct") return Chi0Method::direct;
  fail_usage("--method must be fast or direct, not '" + s + "'");
}

SpectrumRun compute_spectrum(const SpectrumOptions& o, const Comm& comm) {
  const auto t_start = Clock::now();
  SpectrumRun run;
  o.grid.validate();
  if (!(o.eta_eV > 0)) fail_usage("--eta must be positive");
  const bool rpa = o.theory == Theory::rpa;
  if (rpa && !o.gblock && !o.converge.enabled)
    fail_usage("--theory rpa needs --gblock N|<energy> (e.g. --gblock 59 or --gblock 4Ry) or --converge");
  if (o.converge.enabled && !rpa) fail_usage("--converge applies to --theory rpa only");
  if (o.converge.enabled && o.method == Chi0Method::direct)
    fail_usage("--converge uses the fast route (sub-blocks of one spectral function); drop --method direct");
  std::vector<FieldDirection> directions = o.directions;
  if (directions.empty()) directions.push_back(parse_field_direction(paper::component));

  // --- the ground state --------------------------------------------------------------------------
  auto t0 = Clock::now();
  // (each rank reads the files itself: a rank that cannot, e.g. on a node without the file system, fails them all)
  const qe::Save save = agreed_on_every_rank(comm, [&] {
    const auto yambo_save = yambo::find_save(o.input);
    return yambo_save ? yambo::as_qe_save(*yambo_save) : qe::Save::read(o.input);
  });
  const auto occupations = agreed_on_every_rank(
      comm, [&] { return std::make_shared<const Occupations>(compute_occupations(save, o.occupations)); });
  if (o.drude.plasma != DrudeOptions::Plasma::off && !occupations->metal)  // before any chi0 is built
    fail_usage("--drude applies to metals (partial occupations); this run is an insulator");
  if (o.drude.plasma == DrudeOptions::Plasma::computed && !(o.drude.temperature_K > 0) &&
      !(occupations->temperature_K > 0))  // (add_drude's own check, made before chi0 as well)
    fail_usage("--drude auto needs a temperature for -df/de: --drude-temperature K (QE's occupations carry none)");
  const bool by_occupation = occupations->metal || occupations->n_spin > 1;
  const int nbnd = save.nbnd, nocc = by_occupation ? occupations->lowest_partial[0] : save.occupied_bands();
  const int b1 = o.band_first < 0 ? 0 : o.band_first;
  const int b2 = o.band_last < 0 ? nbnd - 1 : o.band_last;
  if (b1 > b2) fail_usage(fmt::format("--bands {}:{} is empty", b1 + 1, b2 + 1));
  if (b2 >= nbnd)
    fail_input(save.xml, fmt::format("--bands {}:{} goes beyond the {} bands of this run", b1 + 1, b2 + 1, nbnd));
  if (!by_occupation && (b1 >= nocc || b2 < nocc))
    fail_input(save.xml, fmt::format("--bands {}:{} must contain valence (1..{}) and conduction ({}..{}) bands", b1 + 1,
                                     b2 + 1, nocc, nocc + 1, nbnd));

  // --- the G block ---------------------------------------------------------------------------------
  GBlock block;
  if (!rpa) {
    block = closed_shells(save.reciprocal, 0.0);  // {G = 0}
  } else if (o.converge.enabled) {
    // the largest block the sweep may reach: the request, or the whole wavefunction sphere if that is smaller
    const GBlock sphere = closed_shells(save.reciprocal, save.ecutwfc);
    const GBlockRequest& cap = o.gblock ? *o.gblock : o.converge.max_block;
    const bool fits = cap.by_energy ? cap.energy_Ha <= sphere.shell_energy_Ha() * (1 + 1e-12) : cap.count <= sphere.size();
    block = fits ? select_gblock(save.reciprocal, cap, save.ecutwfc, save.xml) : sphere;
  } else {
    block = select_gblock(save.reciprocal, *o.gblock, save.ecutwfc, save.xml);
  }
  run.timings["read_save_s"] = since(t0);

  // --- transitions of this rank's irreducible k-points, then chi0, over a block ------------------------
  // the frequencies the solver computes: every output frequency, or every n-th (interpolated back at the end)
  const EnergyGrid solver_grid = o.grid.subgrid(o.frequency_stride);
  const auto omega = solver_grid.values_Ha();
  const auto omega_eV = solver_grid.values_eV();
  // YAMBO forces the retarded function at a finite electronic temperature (metals); an explicit choice wins, except
  // time-ordered for a metal: its near-degenerate partly occupied pairs (heads ~ 1/dE) then add a low-frequency
  // spike whose size depends on the k grid, which the retarded kernel cancels
  if (o.ordering && *o.ordering == Ordering::time_ordered && occupations->metal)
    fail_usage(
        fmt::format("{}: a metal (partly occupied bands): the time-ordered response (--ordering T) is not "
                    "defined well for it; use the retarded one (R, the default for metals)",
                    save.xml.string()));
  const Ordering ordering = o.ordering ? *o.ordering : (occupations->metal ? Ordering::retarded : Ordering::time_ordered);
  const FrequencyKernel kernel(o.broadening, o.broadening == BroadeningShape::oscillator ? Ordering::retarded : ordering,
                               units::eV_to_Ha(o.eta_eV));
  SpectralInfo info;
  double n_transitions = 0, t_transitions = 0, t_chi0 = 0;
  std::size_t n_k_irreducible = 0, n_k_full = 0;
  std::string k_sampling;
  double volume = 0;
  nlohmann::json drude;  // of the last chi0 built
  const Chi0Builder build = [&](const GBlock& b) {
    auto t = Clock::now();
    TransitionOptions topts;
    topts.band_first = b1;
    topts.band_last = b2;
    topts.include_vnl = o.include_vnl;
    topts.body_precision = body_precision(o.method);
    topts.gblock = b.miller;
    topts.occupations = occupations;
    // (reads the pseudopotentials and the k-points' files: a failure on one rank is every rank's)
    TransitionSource source = agreed_on_every_rank(comm, [&] { return TransitionSource(save, topts); });
    n_k_irreducible = source.n_irreducible_kpoints();
    n_k_full = source.n_full_kpoints();
    k_sampling = source.k_sampling();
    volume = source.volume();
    const auto [k0, k1] = balanced_kpoint_range(source, comm);
    OscillatorTable table;
    // Each rank reads its own k-points: a failure there (an unreadable wavefunction file) is one rank's. Every
    // rank learns of it before the next collective, and all raise it, so that none waits for ever in a sum (the
    // C API's communicators have no MPI_Abort to end them).
    std::exception_ptr failure;
    try {
      Progress progress(fmt::format("transitions ({} G)", b.size()), k1 - k0, o.show_progress && comm.is_root(),
                        comm.size() == 1);
      // The fast route reads rows one by one: a compact table (irreducible rows + symmetry images).
      table = build_oscillator_table(source, k0, k1, o.method == Chi0Method::fast, &progress);
      // The cached irreducible-k matrix elements (up to 1 GiB) only duplicate the table now: dropped before chi0's
      // peak memory. The source stays alive for add_drude, whose intraband_tensor reads the wavefunctions itself.
      source.clear_cache();
      progress.finish();
    } catch (const std::exception&) {
      failure = std::current_exception();
    }
    comm.rethrow_on_every_rank(failure);
    n_transitions = static_cast<double>(table.size());
    comm.sum(&n_transitions, 1);
    t_transitions += comm.max(since(t));
    t = Clock::now();
    Chi0 chi = o.method == Chi0Method::fast
                   ? chi0_spectral(table, omega, kernel, comm, o.spectral, -1, &info, o.show_progress)
                   : chi0_direct(table, omega, kernel, comm, -1, o.show_progress);
    drude = add_drude(chi, o, *occupations, source, comm);
    t_chi0 += since(t);
    return chi;
  };

  // --- chi0 and the Dyson equation -----------------------------------------------------------------
  MacroscopicResponse response;
  std::optional<ConvergenceResult> convergence;
  if (o.converge.enabled) {
    t0 = Clock::now();
    convergence = converge_gblock(block, build, omega_eV, o.converge, comm);
    run.n_g = convergence->n_g;
    run.convergence = convergence->history;
    run.probes = convergence->probes;
    run.converged = convergence->converged;
    response = std::move(convergence->response);
    run.timings["converge_s"] = since(t0);
    run.timings["chi0_builds"] = convergence->chi0_builds;
  } else {
    const Chi0 chi = build(block);
    t0 = Clock::now();
    run.n_g = block.size();
    const auto v_body = block.coulomb_body();
    response = solve_dyson(chi, v_body, rpa ? static_cast<int>(block.size()) - 1 : 0, comm);
    if (rpa) {
      const auto trace_imag = [](const std::vector<Complex>& e) {
        std::vector<double> im(e.size());
        for (std::size_t i = 0; i < e.size(); ++i) im[i] = e[i].imag();
        return im;
      };
      const auto ipa_trace = trace_imag(response.eps_trace(false));
      for (const std::size_t count : o.sub_block_probes) {
        // the first closed shell of at least `count` G, strictly inside the block (a leading sub-block of chi0)
        const auto it = std::lower_bound(block.shell_end.begin(), block.shell_end.end(), count);
        if (it == block.shell_end.end() || *it >= block.size()) continue;
        if (!run.probes.empty() && run.probes.back().n_g == *it) continue;
        const MacroscopicResponse r = solve_dyson(chi, v_body, static_cast<int>(*it) - 1, comm);
        run.probes.push_back({*it, units::Ha_to_Ry(0.5 * block.norm[*it - 1] * block.norm[*it - 1]),
                              similarity_coefficient(omega_eV, trace_imag(r.eps_trace(true)), ipa_trace)});
      }
    }
    run.timings["dyson_s"] = since(t0);
  }
  run.timings["transitions_s"] = t_transitions;
  run.timings["chi0_s"] = t_chi0;
  if (o.method == Chi0Method::fast) {
    run.timings["chi0_setup_s"] = info.seconds_setup;
    run.timings["chi0_binning_s"] = info.seconds_binning;
    run.timings["chi0_transform_s"] = info.seconds_transform;
    if (comm.size() > 1) {
      run.timings["chi0_gather_s"] = info.seconds_gather;
      run.timings["chi0_exchange_s"] = info.seconds_exchange;
    }
  }
  run.timings["total_s"] = since(t_start);
  if (comm.size() > 1) {
    // Every rank's own stage times (the ones above are rank 0's, transitions the slowest rank's): where the
    // ranks wait for each other.
    run.timings_by_rank = nlohmann::json::array();
    for (const auto& r : comm.all_gather(run.timings.dump())) run.timings_by_rank.push_back(nlohmann::json::parse(r));
  }

  if (o.frequency_stride > 1) response = interpolate_response(o.grid, o.frequency_stride, response);

  // --- the spectra and their provenance --------------------------------------------------------------
  SpectrumSet& set = run.set;
  const auto output_eV = o.grid.values_eV();
  set.energy_eV = output_eV;
  set.theory = rpa ? "rpa" : "ipa";
  for (const auto& d : directions) {
    SpectrumComponent c;
    c.spectrum.energy_eV = output_eV;
    c.spectrum.eps = d.trace ? response.eps_trace(rpa) : response.eps(d.q, rpa);
    if (rpa) c.spectrum.eps_nolf = d.trace ? response.eps_trace(false) : response.eps(d.q, false);
    c.spectrum.label = fmt::format("{} {}", set.theory, d.name);
    if (!d.trace) c.q_direction = std::array<double, 3>{d.q[0], d.q[1], d.q[2]};
    c.description = rpa ? fmt::format("RPA with local fields, {} G-vectors ({}), q -> 0", run.n_g,
                                      d.trace ? "mean of xx, yy, zz" : "along q")
                        : fmt::format("IPA (no local fields), q -> 0{}", d.trace ? ", mean of xx, yy, zz" : "");
    set.components[d.name] = std::move(c);
  }
  nlohmann::json p;
  p["program"] = "rung spectrum";
  p["rung_version"] = version_string;
  p["command_line"] = o.command_line;
  p["inputs"] = {{"qe_save", std::filesystem::absolute(save.dir).string()},
                 {"qe_xml", std::filesystem::absolute(save.xml).string()},
                 {"qe_version", save.qe_version}};
  nlohmann::json par;
  par["theory"] = set.theory;
  par["bands"] = {b1 + 1, b2 + 1};
  par["n_g"] = run.n_g;
  par["gblock_shell_energy_Ry"] = units::Ha_to_Ry(0.5 * block.norm[run.n_g - 1] * block.norm[run.n_g - 1]);
  if (o.gblock) par["gblock_request"] = o.gblock->text;
  if (o.gblock && !rpa) par["gblock_note"] = "ignored for ipa: only the head of chi0 enters (YAMBO's Chimod=IP)";
  par["emin_eV"] = o.grid.emin_eV;
  par["emax_eV"] = o.grid.emax_eV;
  par["steps"] = o.grid.steps;
  par["eta_eV"] = o.eta_eV;
  par["broadening"] = to_string(o.broadening);
  par["ordering"] = to_string(kernel.ordering());
  par["include_vnl"] = o.include_vnl;
  par["method"] = o.method == Chi0Method::fast ? "fast" : "direct";
  par["chi0_storage"] = "single precision";  // chi0.hpp
  if (rpa)                                   // the body's (the heads come from the dipoles in double precision)
    par["oscillator_arithmetic"] =
        body_precision(o.method) == OscillatorPrecision::single_precision ? "single precision" : "double precision";
  if (o.frequency_stride > 1)
    par["solver_frequencies"] = {{"stride", o.frequency_stride},
                                 {"step_eV", solver_grid.step_eV()},
                                 {"count", solver_grid.steps},
                                 {"interpolation", "local cubic (four-point Lagrange) to every output frequency"}};
  nlohmann::json dirs = nlohmann::json::array();
  for (const auto& d : directions) dirs.push_back(d.name);
  par["directions"] = dirs;
  par["q0_convention"] = "q -> 0 limit, heads from dipoles (YAMBO G-space v, length gauge)";
  if (o.method == Chi0Method::fast)
    par["spectral_grid"] = {{"delta_meV", units::Ha_to_eV(info.grid.delta) * 1000},
                            {"bins", info.grid.n_bins},
                            {"fft_length", info.fft_length},
                            {"used_fft", info.used_fft},
                            {"points_per_eta", o.spectral.points_per_eta}};
  p["parameters"] = par;
  p["system"] = {{"n_k_irreducible", n_k_irreducible},
                 {"n_k_full", n_k_full},
                 {"k_sampling", k_sampling},
                 {"n_transitions", n_transitions},
                 {"volume_bohr3", volume},
                 {"nbnd", nbnd},
                 {"n_pw_mean", mean_plane_waves(save)},
                 {"occupied_bands", nocc},
                 {"spin_channels", occupations->n_spin},
                 {"spinors", save.noncolin},
                 {"spin_orbit", save.spinorbit},
                 {"metal", occupations->metal}};
  if (occupations->metal) {
    nlohmann::json occ{{"source", to_string(occupations->source)},
                       {"fermi_energy_eV", units::Ha_to_eV(occupations->fermi_energy)},
                       {"interband_only", true},
                       {"lowest_partly_empty_band", nlohmann::json::array()},
                       {"highest_partly_occupied_band", nlohmann::json::array()}};
    if (occupations->source == OccupationSource::fermi_dirac) occ["temperature_K"] = occupations->temperature_K;
    if (!occupations->fermi_energy_spin.empty()) {
      occ["fermi_energy_per_spin_eV"] = nlohmann::json::array();
      for (double mu : occupations->fermi_energy_spin) occ["fermi_energy_per_spin_eV"].push_back(units::Ha_to_eV(mu));
    }
    for (int s = 0; s < occupations->n_spin; ++s) {
      occ["lowest_partly_empty_band"].push_back(occupations->lowest_partial[std::size_t(s)] + 1);
      occ["highest_partly_occupied_band"].push_back(occupations->highest_partial[std::size_t(s)] + 1);
    }
    p["occupations"] = occ;
  }
  if (!drude.is_null()) p["drude"] = drude;
  p["mpi_ranks"] = comm.size();
  p["openmp_threads_per_rank"] = openmp_max_threads();
  if (comm.size() > 1 && !mpi_transport_choice().empty()) p["mpi_transport"] = mpi_transport_choice();
  if (o.converge.enabled) {
    nlohmann::json h = nlohmann::json::array(), pr = nlohmann::json::array();
    for (const auto& s : run.convergence) {
      nlohmann::json e{{"n_g", s.n_g}, {"shell_energy_Ry", s.shell_energy_Ry}, {"sc_ipa_rpa", s.sc_ipa_rpa}};
      if (s.sc_vs_previous) e["sc_vs_previous"] = *s.sc_vs_previous;
      if (s.sc_xyz) e["sc_vs_previous_xyz"] = *s.sc_xyz;
      if (s.inert) e["inert"] = true;
      h.push_back(e);
    }
    for (const auto& q : run.probes)
      pr.push_back({{"n_g", q.n_g}, {"shell_energy_Ry", q.shell_energy_Ry}, {"sc_ipa_rpa", q.sc_ipa_rpa}});
    p["convergence"] = {{"rule", "SC(block E, block 2E) >= threshold on x, y and z; the larger block is kept"},
                        {"sc_threshold", o.converge.sc_threshold},
                        {"start", o.converge.start.text},
                        {"largest_block", block.size()},
                        {"converged", run.converged},
                        {"chosen_n_g", run.n_g},
                        {"history", h},
                        {"probes", pr}};
  }
  if (!o.converge.enabled && !run.probes.empty()) {
    nlohmann::json pr = nlohmann::json::array();
    for (const auto& q : run.probes)
      pr.push_back({{"n_g", q.n_g}, {"shell_energy_Ry", q.shell_energy_Ry}, {"sc_ipa_rpa", q.sc_ipa_rpa}});
    p["sub_block_probes"] = pr;  // SC(IPA, RPA) of the trace on leading sub-blocks of the block's chi0
  }
  p["timings_s"] = run.timings;
  if (!run.timings_by_rank.is_null()) p["timings_by_rank_s"] = run.timings_by_rank;
  set.provenance = p;
  return run;
}

}  // namespace rung::response
