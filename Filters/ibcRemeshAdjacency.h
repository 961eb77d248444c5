// SPDX-License-Identifier: BSD-3-Clause
// The triangle across each edge of a triangle mesh, for the repair's orientation walk and the
// projection's walks over the input. Private to the module.
#ifndef ibcRemeshAdjacency_h
#define ibcRemeshAdjacency_h

#include "ibcNormalProbe.h" // Triangle
#include "ibcRemeshArrays.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ibc
{
namespace remesh
{

// Hidden: nothing here is exported from the library, so that calls within a file may be
// inlined (GCC does not inline a default-visibility function of a shared library: another
// library could interpose it).
namespace [[gnu::visibility("hidden")]] detail
{
/// The triangle across each edge of each triangle: across[3 t + k] for edge k of triangle t
/// (from corner k to corner k + 1), -1 on a border or a non-manifold edge; counts the
/// non-manifold edges (shared by more than two triangles).
LargeArray<std::int32_t> findEdgeNeighbours(std::size_t vertexCount,
  const std::vector<probe::Triangle>& triangles,
  std::int64_t& nonManifoldEdges);
} // namespace detail

} // namespace remesh
} // namespace ibc

#endif
