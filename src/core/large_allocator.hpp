#pragma once
// An allocator for the solver's large work arrays (chi0 over all frequencies, the spectral function):
// blocks of 8 MB and more are mapped with MAP_POPULATE, so the kernel provides all their pages in one call
// instead of one page fault per 4 kB on first touch (the system time of a large RPA run was dominated by
// those faults). Measured on the 113-G Si run: 0.22-0.27 s of system time against 0.28-0.32 s with faults;
// transparent huge pages (madvise) gave 0.06 s when free memory was unfragmented but 1.1-1.3 s when the
// kernel had to compact it first, so they are not used. Smaller blocks come from the ordinary allocator.
// Threshold: the smallest block mapped that way (a buffer that is written once and soon dropped, such as a
// message, gains from it at 1 MB already).
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include <sys/mman.h>

namespace rung {

template <class T, std::size_t Threshold = (std::size_t(8) << 20)>
struct LargeAllocator {
  using value_type = T;
  static constexpr std::size_t threshold = Threshold;
  template <class U>
  struct rebind {
    using other = LargeAllocator<U, Threshold>;
  };

  LargeAllocator() noexcept = default;
  template <class U>
  LargeAllocator(const LargeAllocator<U, Threshold>&) noexcept {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < threshold) return static_cast<T*>(::operator new(bytes));
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < threshold) ::operator delete(p);
    else munmap(p, bytes);
  }
  // Elements of implicit-lifetime types (double, std::complex<double>, ...) are never constructed: a large
  // block holds what fresh pages hold (zeros), a small one (from operator new) whatever was there before. The
  // solver's arrays are overwritten anyway, and a constructor pass over hundreds of MB is wasted; a caller that
  // needs zeros fills them itself, at any size.
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    if constexpr (!(std::is_trivially_copyable_v<U> && std::is_trivially_destructible_v<U>)) ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <class U>
  bool operator==(const LargeAllocator<U, Threshold>&) const noexcept {
    return true;
  }
};

}  // namespace rung
