#include "response/dyson.hpp"

#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/thread_pools.hpp"
#include "core/units.hpp"

#include <fmt/format.h>

// LAPACK (OpenBLAS): LU with partial pivoting and solve, column-major.
extern "C" void zgesv_(const int* n, const int* nrhs, std::complex<double>* a, const int* lda, int* ipiv,
                       std::complex<double>* b, const int* ldb, int* info);

namespace rung::response {

MacroscopicResponse solve_dyson(const Chi0& chi, const std::vector<double>& v_body, int n_body, const Comm& comm) {
  if (n_body < 0 || n_body > chi.n - 3 || static_cast<std::size_t>(n_body) > v_body.size())
    fail(fmt::format("solve_dyson: {} body G-vectors requested, chi0 has {} and v has {}", n_body, chi.n - 3,
                     v_body.size()));
  const std::size_t nw = chi.size();
  MacroscopicResponse r;
  const auto [i0, i1] = comm.block(nw);
  // (this rank's check and allocation, agreed on before the collective sums below)
  agreed_on_every_rank(comm, [&] {
    if (i1 > i0 && !(chi.holds(i0) && chi.holds(i1 - 1)))
      fail(
          fmt::format("solve_dyson: this rank solves frequencies {}..{} but chi0 holds {}..{} (chi0 distributed "
                      "over another communicator)",
                      i0, i1 - 1, chi.first, chi.first + chi.held - 1));
    r.chi_lf.assign(nw, Eigen::Matrix3cd::Zero());
    r.chi_nolf.assign(nw, Eigen::Matrix3cd::Zero());
  });
  const Eigen::Map<const Eigen::VectorXd> v(v_body.data(), n_body);
  const SerialBlasScope serial_blas;  // zgesv from OpenMP threads
  long singular = -1;                 // the lowest frequency index (of this rank) where 1 - B v is singular
  int singular_info = 0;
  std::exception_ptr thread_error;  // a thread's own failure (memory): raised after the region, on every rank
  const auto record_error = [&thread_error] {
#pragma omp critical(rung_dyson_error)
    if (!thread_error) thread_error = std::current_exception();
  };
  // an exception may not leave the OpenMP region: a singular frequency is recorded, raised after it
  const auto record_singular = [&singular, &singular_info](std::size_t i, int info) {
#pragma omp critical(rung_dyson_singular)
    if (singular < 0 || long(i) < singular) singular = long(i), singular_info = info;  // (any thread order)
  };
  // Not printed (a 300-G block's solves take seconds, a few-G block's milliseconds): there for the host's stop,
  // asked between frequencies on one rank (core/progress.hpp)
  Progress progress("Dyson", i1 - i0, false, comm.size() == 1);
#pragma omp parallel
  {
    Eigen::MatrixXcd kernel, x;
    std::vector<int> ipiv;
    bool ready = true;
    try {
      kernel.resize(n_body, n_body);
      x.resize(n_body, 3);
      ipiv.resize(static_cast<std::size_t>(n_body));
    } catch (...) {
      record_error();
      ready = false;
    }
#pragma omp for schedule(dynamic, 8)
    for (std::size_t i = i0; i < i1; ++i) {
      if (!ready || progress.stop_requested()) continue;  // (every thread still takes part in the loop)
      try {
        const auto m = chi.at(i);  // single precision, read into double precision below
        const Eigen::Matrix3cd head = m.topLeftCorner<3, 3>().cast<Complex>();
        r.chi_nolf[i] = head;
        if (n_body == 0) {
          r.chi_lf[i] = head;
          continue;
        }
        // (1 - B v) x = W'  (body kernel; v diagonal)
        kernel.noalias() = -(m.block(3, 3, n_body, n_body).cast<Complex>() * v.asDiagonal());
        kernel.diagonal().array() += 1.0;
        x = m.block(3, 0, n_body, 3).cast<Complex>();
        const int nn = n_body, nrhs = 3;
        int info = 0;
        zgesv_(&nn, &nrhs, kernel.data(), &nn, ipiv.data(), x.data(), &nn, &info);
        if (info != 0) {
          record_singular(i, info);
          continue;
        }
        r.chi_lf[i] = head + m.block(0, 3, 3, n_body).cast<Complex>() * v.asDiagonal() * x;
      } catch (...) {
        record_error();
      }
    }
  }
  if (progress.stop_requested()) throw Interrupted();  // (one rank alone: see above)
  // raised on every rank (a rank that raised alone would leave the others in the sums below)
  comm.rethrow_on_every_rank(
      thread_error   ? thread_error
      : singular < 0 ? nullptr
                     : std::make_exception_ptr(Error(
                           ErrorKind::runtime,
                           fmt::format("Dyson equation singular at frequency index {} ({:.4f} eV; zgesv info {})",
                                       singular, units::Ha_to_eV(chi.omega[std::size_t(singular)]), singular_info))));
  if (comm.size() > 1) {
    comm.sum(reinterpret_cast<Complex*>(r.chi_lf.data()), 9 * nw);
    comm.sum(reinterpret_cast<Complex*>(r.chi_nolf.data()), 9 * nw);
  }
  return r;
}

std::vector<Complex> MacroscopicResponse::eps(const Eigen::Vector3d& q, bool local_fields) const {
  const double norm = q.norm();
  if (!(norm > 0)) fail_usage("the field direction must not be the zero vector");
  const Eigen::Vector3d u = q / norm;
  const auto& c = local_fields ? chi_lf : chi_nolf;
  std::vector<Complex> e(c.size());
  const Eigen::Vector3cd uc = u.cast<Complex>();
  // u is real: q̂ᵀ χ q̂ (Eigen's dot conjugates its first argument, a no-op here).
  for (std::size_t i = 0; i < c.size(); ++i) e[i] = 1.0 - units::four_pi * uc.dot(c[i] * uc);
  return e;
}

std::vector<Complex> MacroscopicResponse::eps_trace(bool local_fields) const {
  const auto& c = local_fields ? chi_lf : chi_nolf;
  std::vector<Complex> e(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) e[i] = 1.0 - units::four_pi * c[i].trace() / 3.0;
  return e;
}

}  // namespace rung::response
