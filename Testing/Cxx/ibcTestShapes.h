// SPDX-License-Identifier: BSD-3-Clause
// Shapes and checks shared by the unit tests.
#ifndef ibcTestShapes_h
#define ibcTestShapes_h

#include "ibcVector.h"

#include <array>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace ibc
{
namespace test
{

/// The corners of an axis-aligned cube [0, side]^3.
inline std::vector<Vec3> cubePoints(double side)
{
  const double s = side;
  return { { 0, 0, 0 },
    { s, 0, 0 },
    { s, s, 0 },
    { 0, s, 0 },
    { 0, 0, s },
    { s, 0, s },
    { s, s, s },
    { 0, s, s } };
}

/// The cube's faces, two triangles each, all wound outward.
inline std::vector<std::array<std::int64_t, 3>> cubeTriangles()
{
  return { { 0, 2, 1 },
    { 0, 3, 2 },
    { 4, 5, 6 },
    { 4, 6, 7 },
    { 0, 1, 5 },
    { 0, 5, 4 },
    { 1, 2, 6 },
    { 1, 6, 5 },
    { 2, 3, 7 },
    { 2, 7, 6 },
    { 3, 0, 4 },
    { 3, 4, 7 } };
}

/// True when every directed edge appears once and its reverse once: a closed, manifold,
/// consistently oriented triangle mesh.
inline bool closedAndConsistent(const std::vector<std::array<std::int64_t, 3>>& triangles)
{
  std::map<std::pair<std::int64_t, std::int64_t>, int> directed;
  for (const auto& t : triangles)
  {
    for (int e = 0; e < 3; ++e)
    {
      ++directed[{ t[e], t[(e + 1) % 3] }];
    }
  }
  for (const auto& [edge, count] : directed)
  {
    if (count != 1 || directed.count({ edge.second, edge.first }) != 1)
    {
      return false;
    }
  }
  return true;
}

} // namespace test
} // namespace ibc

#endif
