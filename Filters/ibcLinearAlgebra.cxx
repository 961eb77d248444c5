// SPDX-License-Identifier: BSD-3-Clause
#include "ibcLinearAlgebra.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ibc
{

int SymmetricEigen::largest() const
{
  int best = 0;
  for (int i = 1; i < 3; ++i)
  {
    if (this->values[i] > this->values[best])
    {
      best = i;
    }
  }
  return best;
}

std::array<int, 3> SymmetricEigen::decreasing() const
{
  std::array<int, 3> order{ { 0, 1, 2 } };
  std::stable_sort(
    order.begin(), order.end(), [this](int a, int b) { return this->values[a] > this->values[b]; });
  return order;
}

SymmetricEigen symmetricEigen(Matrix3 a)
{
  Matrix3 v{ { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } } };
  for (int sweep = 0; sweep < 50; ++sweep)
  {
    const double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
    if (off < 1e-30)
    {
      break;
    }
    for (int p = 0; p < 2; ++p)
    {
      for (int q = p + 1; q < 3; ++q)
      {
        if (std::abs(a[p][q]) < 1e-300)
        {
          continue;
        }
        const double theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
        const double t =
          (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0);
        const double s = t * c;
        for (int k = 0; k < 3; ++k)
        {
          const double akp = a[k][p];
          const double akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (int k = 0; k < 3; ++k)
        {
          const double apk = a[p][k];
          const double aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (int k = 0; k < 3; ++k)
        {
          const double vkp = v[k][p];
          const double vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  SymmetricEigen result;
  for (int i = 0; i < 3; ++i)
  {
    result.values[i] = a[i][i];
    result.vectors[i] = normalized({ v[0][i], v[1][i], v[2][i] });
  }
  return result;
}

void SurfaceMoments::addTriangle(Vec3 a, Vec3 b, Vec3 c)
{
  const Vec3 sum = a + b + c;
  const double area = 0.5 * length(cross(b - a, c - a));
  std::array<double, 10>& m = this->sums;
  m[0] += area;
  m[1] += area * sum.x / 3.0;
  m[2] += area * sum.y / 3.0;
  m[3] += area * sum.z / 3.0;
  // The integral of x x^T over a triangle: area / 12 (a a^T + b b^T + c c^T + s s^T).
  auto second =
    [&](double ai, double aj, double bi, double bj, double ci, double cj, double si, double sj)
  { return area / 12.0 * (ai * aj + bi * bj + ci * cj + si * sj); };
  m[4] += second(a.x, a.x, b.x, b.x, c.x, c.x, sum.x, sum.x);
  m[5] += second(a.x, a.y, b.x, b.y, c.x, c.y, sum.x, sum.y);
  m[6] += second(a.x, a.z, b.x, b.z, c.x, c.z, sum.x, sum.z);
  m[7] += second(a.y, a.y, b.y, b.y, c.y, c.y, sum.y, sum.y);
  m[8] += second(a.y, a.z, b.y, b.z, c.y, c.z, sum.y, sum.z);
  m[9] += second(a.z, a.z, b.z, b.z, c.z, c.z, sum.z, sum.z);
}

Vec3 SurfaceMoments::centroid() const
{
  const std::array<double, 10>& m = this->sums;
  return { m[1] / m[0], m[2] / m[0], m[3] / m[0] };
}

Matrix3 SurfaceMoments::covariance() const
{
  const std::array<double, 10>& m = this->sums;
  const Vec3 center = this->centroid();
  const double area = m[0];
  return { { { m[4] / area - center.x * center.x,
               m[5] / area - center.x * center.y,
               m[6] / area - center.x * center.z },
    { m[5] / area - center.x * center.y,
      m[7] / area - center.y * center.y,
      m[8] / area - center.y * center.z },
    { m[6] / area - center.x * center.z,
      m[8] / area - center.y * center.z,
      m[9] / area - center.z * center.z } } };
}

bool solveLinearSystem(std::vector<double> matrix, std::vector<double>& rhs)
{
  const std::size_t n = rhs.size();
  for (std::size_t column = 0; column < n; ++column)
  {
    std::size_t pivot = column;
    for (std::size_t row = column + 1; row < n; ++row)
    {
      if (std::abs(matrix[row * n + column]) > std::abs(matrix[pivot * n + column]))
      {
        pivot = row;
      }
    }
    if (std::abs(matrix[pivot * n + column]) < 1e-300)
    {
      return false;
    }
    if (pivot != column)
    {
      for (std::size_t k = 0; k < n; ++k)
      {
        std::swap(matrix[pivot * n + k], matrix[column * n + k]);
      }
      std::swap(rhs[pivot], rhs[column]);
    }
    for (std::size_t row = column + 1; row < n; ++row)
    {
      const double factor = matrix[row * n + column] / matrix[column * n + column];
      for (std::size_t k = column; k < n; ++k)
      {
        matrix[row * n + k] -= factor * matrix[column * n + k];
      }
      rhs[row] -= factor * rhs[column];
    }
  }
  for (std::size_t row = n; row-- > 0;)
  {
    double sum = rhs[row];
    for (std::size_t k = row + 1; k < n; ++k)
    {
      sum -= matrix[row * n + k] * rhs[k];
    }
    rhs[row] = sum / matrix[row * n + row];
  }
  return true;
}

Rotation identityRotation()
{
  return { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
}

Rotation multiply(const Rotation& a, const Rotation& b)
{
  Rotation product{};
  for (int row = 0; row < 3; ++row)
  {
    for (int column = 0; column < 3; ++column)
    {
      for (int inner = 0; inner < 3; ++inner)
      {
        product[3 * row + column] += a[3 * row + inner] * b[3 * inner + column];
      }
    }
  }
  return product;
}

Rotation transpose(const Rotation& a)
{
  return { a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8] };
}

Vec3 apply(const Rotation& r, Vec3 v)
{
  return { r[0] * v.x + r[1] * v.y + r[2] * v.z,
    r[3] * v.x + r[4] * v.y + r[5] * v.z,
    r[6] * v.x + r[7] * v.y + r[8] * v.z };
}

Rotation rotationFromAxisAngle(Vec3 axisAngle)
{
  const double angle = length(axisAngle);
  if (angle < 1e-300)
  {
    return identityRotation();
  }
  const Vec3 k = (1.0 / angle) * axisAngle;
  const double c = std::cos(angle);
  const double s = std::sin(angle);
  const double t = 1.0 - c;
  return { t * k.x * k.x + c,
    t * k.x * k.y - s * k.z,
    t * k.x * k.z + s * k.y,
    t * k.x * k.y + s * k.z,
    t * k.y * k.y + c,
    t * k.y * k.z - s * k.x,
    t * k.x * k.z - s * k.y,
    t * k.y * k.z + s * k.x,
    t * k.z * k.z + c };
}

double rotationAngleDegrees(const Rotation& r)
{
  const double cosine = std::max(-1.0, std::min(1.0, 0.5 * (r[0] + r[4] + r[8] - 1.0)));
  return std::acos(cosine) * 180.0 / 3.14159265358979323846;
}

Rotation orthonormalized(const Rotation& r)
{
  Vec3 x{ r[0], r[1], r[2] };
  Vec3 y{ r[3], r[4], r[5] };
  x = normalized(x);
  y = normalized(y - dot(y, x) * x);
  const Vec3 z = cross(x, y);
  return { x.x, x.y, x.z, y.x, y.y, y.z, z.x, z.y, z.z };
}
double medianInPlace(std::vector<double>& values)
{
  if (values.empty())
  {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const auto middle = static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), values.begin() + middle, values.end());
  const double upper = values[static_cast<std::size_t>(middle)];
  if (values.size() % 2 == 1)
  {
    return upper;
  }
  return 0.5 * (upper + *std::max_element(values.begin(), values.begin() + middle));
}

} // namespace ibc
