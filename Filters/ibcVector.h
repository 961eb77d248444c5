// SPDX-License-Identifier: BSD-3-Clause
// Small fixed-size vector types for the algorithm code (no VTK dependency).
#ifndef ibcVector_h
#define ibcVector_h

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace ibc
{

struct Vec2
{
  double x = 0.0;
  double y = 0.0;
};

inline Vec2 operator+(Vec2 a, Vec2 b)
{
  return { a.x + b.x, a.y + b.y };
}
inline Vec2 operator-(Vec2 a, Vec2 b)
{
  return { a.x - b.x, a.y - b.y };
}
inline Vec2 operator*(double s, Vec2 a)
{
  return { s * a.x, s * a.y };
}
inline double dot(Vec2 a, Vec2 b)
{
  return a.x * b.x + a.y * b.y;
}
inline double cross(Vec2 a, Vec2 b)
{
  return a.x * b.y - a.y * b.x;
}
inline double length(Vec2 a)
{
  return std::sqrt(dot(a, a));
}
inline Vec2 normalized(Vec2 a)
{
  const double len = length(a);
  return len > 0.0 ? Vec2{ a.x / len, a.y / len } : Vec2{ 0.0, 0.0 };
}
/// The vector turned 90 degrees clockwise: for a boundary traversed counter-clockwise this is
/// the outward normal of a tangent.
inline Vec2 rightPerpendicular(Vec2 a)
{
  return { a.y, -a.x };
}

struct Vec3
{
  double x = 0.0;
  double y = 0.0;
  double z = 0.0;
};

inline Vec3 operator+(Vec3 a, Vec3 b)
{
  return { a.x + b.x, a.y + b.y, a.z + b.z };
}
inline Vec3 operator-(Vec3 a, Vec3 b)
{
  return { a.x - b.x, a.y - b.y, a.z - b.z };
}
inline Vec3 operator*(double s, Vec3 a)
{
  return { s * a.x, s * a.y, s * a.z };
}
inline double dot(Vec3 a, Vec3 b)
{
  return a.x * b.x + a.y * b.y + a.z * b.z;
}
inline Vec3 cross(Vec3 a, Vec3 b)
{
  return { a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x };
}
inline double length(Vec3 a)
{
  return std::sqrt(dot(a, a));
}
inline Vec3 normalized(Vec3 a)
{
  const double len = length(a);
  return len > 0.0 ? Vec3{ a.x / len, a.y / len, a.z / len } : Vec3{ 0.0, 0.0, 0.0 };
}

/// Whether all three coordinates are finite (no NaN, no infinity).
inline bool isFinite(Vec3 a)
{
  return std::isfinite(a.x) && std::isfinite(a.y) && std::isfinite(a.z);
}

/// How many points have a NaN or infinite coordinate.
inline std::int64_t countNonFinite(const std::vector<Vec3>& points)
{
  std::int64_t count = 0;
  for (const Vec3& p : points)
  {
    count += isFinite(p) ? 0 : 1;
  }
  return count;
}

/// What the filters tell a user about `count` points with NaN or infinite coordinates.
inline std::string nonFinitePointsProblem(std::int64_t count)
{
  return std::to_string(count) +
    " points have NaN or infinite coordinates; remove them first (for example with Clean, or "
    "fix the export)";
}

} // namespace ibc

#endif
