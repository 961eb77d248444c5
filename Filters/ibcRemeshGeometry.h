// SPDX-License-Identifier: BSD-3-Clause
// Small geometric helpers of the remesher (closest points on triangles and segments, angles,
// Morton codes), inline: they run in the inner loops of the searches. Private to the module.
#ifndef ibcRemeshGeometry_h
#define ibcRemeshGeometry_h

#include "ibcVector.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace ibc
{
namespace remesh
{

// Hidden: nothing here is exported from the library, so that calls within a file may be
// inlined (GCC does not inline a default-visibility function of a shared library: another
// library could interpose it).
namespace [[gnu::visibility("hidden")]] detail
{
constexpr double Pi = 3.14159265358979323846;

/// Where on a triangle its closest point to a query lies: inside, on edge `index` (from corner
/// index to corner index + 1), or at corner `index`.
struct ClosestFeature
{
  enum Kind : std::uint8_t
  {
    Inside,
    OnEdge,
    AtCorner
  };
  Kind kind = Inside;
  std::uint8_t index = 0;
};

// Closest point of triangle (a, b, c) to p, by the Voronoi regions of its vertices and edges.
inline Vec3 closestOnTriangle(Vec3 p, Vec3 a, Vec3 b, Vec3 c, ClosestFeature& feature)
{
  const Vec3 ab = b - a;
  const Vec3 ac = c - a;
  const Vec3 ap = p - a;
  const double d1 = dot(ab, ap);
  const double d2 = dot(ac, ap);
  if (d1 <= 0.0 && d2 <= 0.0)
  {
    feature = { ClosestFeature::AtCorner, 0 };
    return a;
  }
  const Vec3 bp = p - b;
  const double d3 = dot(ab, bp);
  const double d4 = dot(ac, bp);
  if (d3 >= 0.0 && d4 <= d3)
  {
    feature = { ClosestFeature::AtCorner, 1 };
    return b;
  }
  const double vc = d1 * d4 - d3 * d2;
  if (vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0)
  {
    feature = { ClosestFeature::OnEdge, 0 };
    return a + (d1 / (d1 - d3)) * ab;
  }
  const Vec3 cp = p - c;
  const double d5 = dot(ab, cp);
  const double d6 = dot(ac, cp);
  if (d6 >= 0.0 && d5 <= d6)
  {
    feature = { ClosestFeature::AtCorner, 2 };
    return c;
  }
  const double vb = d5 * d2 - d1 * d6;
  if (vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0)
  {
    feature = { ClosestFeature::OnEdge, 2 };
    return a + (d2 / (d2 - d6)) * ac;
  }
  const double va = d3 * d6 - d5 * d4;
  if (va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0)
  {
    feature = { ClosestFeature::OnEdge, 1 };
    return b + ((d4 - d3) / ((d4 - d3) + (d5 - d6))) * (c - b);
  }
  feature = { ClosestFeature::Inside, 0 };
  const double denominator = 1.0 / (va + vb + vc);
  return a + (vb * denominator) * ab + (vc * denominator) * ac;
}

inline Vec3 closestOnTriangle(Vec3 p, Vec3 a, Vec3 b, Vec3 c)
{
  ClosestFeature unused;
  return closestOnTriangle(p, a, b, c, unused);
}

inline Vec3 closestOnSegment(Vec3 p, Vec3 a, Vec3 b)
{
  const Vec3 ab = b - a;
  const double lengthSquared = dot(ab, ab);
  const double t = lengthSquared > 0.0 ? std::clamp(dot(p - a, ab) / lengthSquared, 0.0, 1.0) : 0.0;
  return a + t * ab;
}

inline double triangleMinimumAngle(Vec3 a, Vec3 b, Vec3 c)
{
  auto angle = [](Vec3 p, Vec3 q, Vec3 r)
  {
    const Vec3 u = normalized(q - p);
    const Vec3 v = normalized(r - p);
    return std::acos(std::clamp(dot(u, v), -1.0, 1.0));
  };
  return std::min({ angle(a, b, c), angle(b, c, a), angle(c, a, b) }) * 180.0 / Pi;
}

/// Puts two zero bits between each of the 21 low bits of x.
inline std::uint64_t spreadBits(std::uint64_t x)
{
  x &= 0x1fffff;
  x = (x | x << 32) & 0x1f00000000ffffULL;
  x = (x | x << 16) & 0x1f0000ff0000ffULL;
  x = (x | x << 8) & 0x100f00f00f00f00fULL;
  x = (x | x << 4) & 0x10c30c30c30c30c3ULL;
  x = (x | x << 2) & 0x1249249249249249ULL;
  return x;
}

/// Position on a Morton (Z-order) curve of a point given in [0, 2^21) per axis.
inline std::uint64_t mortonCode(Vec3 p)
{
  return spreadBits(static_cast<std::uint64_t>(p.x)) |
    spreadBits(static_cast<std::uint64_t>(p.y)) << 1 |
    spreadBits(static_cast<std::uint64_t>(p.z)) << 2;
}
} // namespace detail

} // namespace remesh
} // namespace ibc

#endif
