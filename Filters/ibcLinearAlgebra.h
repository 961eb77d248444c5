// SPDX-License-Identifier: BSD-3-Clause
// Small dense linear algebra shared by the algorithms: symmetric 3x3 eigen-decomposition,
// exact surface moments over triangles, small linear systems, rotations, medians.
#ifndef ibcLinearAlgebra_h
#define ibcLinearAlgebra_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcVector.h"

#include <array>
#include <vector>

namespace ibc
{
using Matrix3 = std::array<std::array<double, 3>, 3>;

/// Eigenvalues and unit eigenvectors of a symmetric 3x3 matrix (cyclic Jacobi rotations), in
/// the order the rotations leave them (not sorted).
struct SymmetricEigen
{
  std::array<double, 3> values;
  std::array<Vec3, 3> vectors;

  /// Index of the largest eigenvalue (the first one on ties).
  int largest() const;
  /// Indices sorted by decreasing eigenvalue.
  std::array<int, 3> decreasing() const;
};
IMPLANTBONECONTACTFILTERS_EXPORT SymmetricEigen symmetricEigen(Matrix3 matrix);

/// Area, first and second moments of a surface integrated exactly over its triangles (so they
/// do not depend on where a tessellation put its vertices). Additive over triangles and ranks.
struct IMPLANTBONECONTACTFILTERS_EXPORT SurfaceMoments
{
  /// area, first moments (x, y, z), second moments (xx, xy, xz, yy, yz, zz)
  std::array<double, 10> sums{};

  void addTriangle(Vec3 a, Vec3 b, Vec3 c);
  double area() const { return this->sums[0]; }
  Vec3 centroid() const;
  /// Covariance about the centroid, per unit area.
  Matrix3 covariance() const;
};

/// Solves the n x n system (row-major `matrix`) in place by Gaussian elimination with partial
/// pivoting; the solution replaces `rhs`. False when the matrix is singular.
IMPLANTBONECONTACTFILTERS_EXPORT bool solveLinearSystem(std::vector<double> matrix,
  std::vector<double>& rhs);

/// Row-major 3x3 rotations.
using Rotation = std::array<double, 9>;
IMPLANTBONECONTACTFILTERS_EXPORT Rotation identityRotation();
IMPLANTBONECONTACTFILTERS_EXPORT Rotation multiply(const Rotation& a, const Rotation& b);
IMPLANTBONECONTACTFILTERS_EXPORT Rotation transpose(const Rotation& a);
IMPLANTBONECONTACTFILTERS_EXPORT Vec3 apply(const Rotation& rotation, Vec3 v);
/// The rotation by |axisAngle| radians about axisAngle's direction (Rodrigues).
IMPLANTBONECONTACTFILTERS_EXPORT Rotation rotationFromAxisAngle(Vec3 axisAngle);
/// The angle (degrees) of a rotation.
IMPLANTBONECONTACTFILTERS_EXPORT double rotationAngleDegrees(const Rotation& rotation);
/// The nearest rotation to a matrix that has drifted (Gram-Schmidt on the rows).
IMPLANTBONECONTACTFILTERS_EXPORT Rotation orthonormalized(const Rotation& rotation);

/// Median of the values (the mean of the two middle ones for an even count; NaN for none).
/// Reorders them.
IMPLANTBONECONTACTFILTERS_EXPORT double medianInPlace(std::vector<double>& values);
} // namespace ibc

#endif
