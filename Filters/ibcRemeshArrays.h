// SPDX-License-Identifier: BSD-3-Clause
// The remesher's large arrays (backed by transparent huge pages) and the size limit of the
// surfaces it takes. Private to the module.
#ifndef ibcRemeshArrays_h
#define ibcRemeshArrays_h

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace ibc
{
namespace remesh
{

// Hidden: nothing here is exported from the library, so that calls within a file may be
// inlined (GCC does not inline a default-visibility function of a shared library: another
// library could interpose it).
namespace [[gnu::visibility("hidden")]] detail
{
/// The most points or triangles a surface may have: triangles and their edges (three per
/// triangle) are numbered with 32-bit integers.
constexpr std::size_t MaximumSize = 500000000;

/// Allocator for the arrays of millions of elements: asks Linux for transparent huge pages.
/// Touching fresh memory costs a page fault per 4 KiB page, and on a virtual machine a fault
/// costs about 10 us (measured here: 11 us per page, 0.9 us with huge pages), so that the
/// search tree of a 1M-triangle input spent more time in faults than in building. One 2 MiB
/// page covers what 512 small ones do.
template<typename T>
struct HugePageAllocator
{
  using value_type = T;
  HugePageAllocator() = default;
  template<typename U>
  HugePageAllocator(const HugePageAllocator<U>&)
  {
  }
  T* allocate(std::size_t count)
  {
    const std::size_t bytes = count * sizeof(T);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr std::size_t hugePage = std::size_t(2) << 20;
    if (bytes >= 4 * hugePage)
    {
      const std::size_t rounded = (bytes + hugePage - 1) / hugePage * hugePage;
      if (void* memory = std::aligned_alloc(hugePage, rounded))
      {
        madvise(memory, rounded, MADV_HUGEPAGE); // a hint: small pages when none are free
        return static_cast<T*>(memory);
      }
      throw std::bad_alloc();
    }
#endif
    if (void* memory = std::malloc(std::max<std::size_t>(bytes, 1)))
    {
      return static_cast<T*>(memory);
    }
    throw std::bad_alloc();
  }
  void deallocate(T* memory, std::size_t)
  {
    std::free(memory);
  }
  template<typename U>
  bool operator==(const HugePageAllocator<U>&) const
  {
    return true;
  }
  template<typename U>
  bool operator!=(const HugePageAllocator<U>&) const
  {
    return false;
  }
};
template<typename T>
using LargeArray = std::vector<T, HugePageAllocator<T>>;

/// Asks for transparent huge pages behind memory allocated elsewhere (see HugePageAllocator):
/// only the whole 2 MiB pages inside [first, first + bytes) are affected, and pages already
/// touched stay as they are.
inline void adviseHugePages(const void* first, std::size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t hugePage = std::uintptr_t(2) << 20;
  const auto start = reinterpret_cast<std::uintptr_t>(first);
  const std::uintptr_t begin = (start + hugePage - 1) & ~(hugePage - 1);
  const std::uintptr_t end = (start + bytes) & ~(hugePage - 1);
  if (end > begin)
  {
    madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  }
#else
  (void)first;
  (void)bytes;
#endif
}

template<typename Vector>
void adviseHugePages(const Vector& vector)
{
  adviseHugePages(vector.data(), vector.capacity() * sizeof(typename Vector::value_type));
}
} // namespace detail

} // namespace remesh
} // namespace ibc

#endif
