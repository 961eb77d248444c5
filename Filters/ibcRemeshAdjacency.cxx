// SPDX-License-Identifier: BSD-3-Clause
#include "ibcRemeshAdjacency.h"

#include <algorithm>
#include <utility>

namespace ibc
{
namespace remesh
{
namespace detail
{

// The edges are grouped by their smaller end with a counting sort, so the work is linear in the
// mesh (a sort of all edges took most of the repair of a dense export).
LargeArray<std::int32_t> findEdgeNeighbours(std::size_t vertexCount,
  const std::vector<probe::Triangle>& triangles,
  std::int64_t& nonManifoldEdges)
{
  nonManifoldEdges = 0;
  const std::size_t slots = 3 * triangles.size();
  LargeArray<std::int32_t> across(slots, -1);
  LargeArray<std::int64_t> start(vertexCount + 1, 0);
  for (const auto& t : triangles)
  {
    for (int k = 0; k < 3; ++k)
    {
      ++start[std::min(t[k], t[(k + 1) % 3]) + 1];
    }
  }
  for (std::size_t v = 0; v < vertexCount; ++v)
  {
    start[v + 1] += start[v];
  }
  // Each edge slot under its smaller end, with its larger end to match on.
  LargeArray<std::pair<std::int32_t, std::int32_t>> bucket(slots);
  {
    LargeArray<std::int64_t> fill(start.begin(), start.end() - 1);
    for (std::size_t slot = 0; slot < slots; ++slot)
    {
      const auto& t = triangles[slot / 3];
      const std::int64_t a = t[slot % 3];
      const std::int64_t b = t[(slot % 3 + 1) % 3];
      bucket[fill[std::min(a, b)]++] = { static_cast<std::int32_t>(std::max(a, b)),
        static_cast<std::int32_t>(slot) };
    }
  }
  for (std::size_t v = 0; v < vertexCount; ++v)
  {
    const auto first = bucket.begin() + start[v];
    const auto last = bucket.begin() + start[v + 1];
    if (last - first <= 16)
    {
      // (A vertex has six edges on average: insertion sort, without std::sort's set-up.)
      for (auto i = first + 1; i < last; ++i)
      {
        for (auto j = i; j > first && *j < *(j - 1); --j)
        {
          std::iter_swap(j, j - 1);
        }
      }
    }
    else
    {
      std::sort(first, last);
    }
    for (auto group = first; group != last;)
    {
      auto end = group + 1;
      while (end != last && end->first == group->first)
      {
        ++end;
      }
      if (end - group == 2)
      {
        across[group->second] = (group + 1)->second / 3;
        across[(group + 1)->second] = group->second / 3;
      }
      else if (end - group > 2)
      {
        ++nonManifoldEdges;
      }
      group = end;
    }
  }
  return across;
}

} // namespace detail
} // namespace remesh
} // namespace ibc
