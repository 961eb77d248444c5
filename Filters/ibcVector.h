// SPDX-License-Identifier: BSD-3-Clause
// Small fixed-size vector types for the algorithm code (no VTK dependency).
#ifndef ibcVector_h
#define ibcVector_h

#include <cmath>

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

} // namespace ibc

#endif
