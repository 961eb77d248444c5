// SPDX-License-Identifier: BSD-3-Clause
// Curvature-adaptive sizing for Implant Remesh: how long the edges may be at each vertex of the
// input so that a mesh of flat triangles stays within a stated distance of it, graded so that
// neighbouring sizes differ by a bounded ratio (well-shaped triangles between fine and coarse).
#ifndef ibcRemeshSizing_h
#define ibcRemeshSizing_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcNormalProbe.h"                  // Triangle
#include "ibcVector.h"

#include <cstdint>
#include <vector>

namespace ibc
{
namespace remesh
{

struct SizingOptions
{
  double maximumDeviation = 0.05;  ///< mm, between the flat triangles and the input
  double minimumEdgeLength = 0.1;  ///< mm
  double maximumEdgeLength = 3.0;  ///< mm
  double featureAngleDegrees = 45; ///< curvature is not measured across sharper edges
  /// Lengths may grow by at most this much per unit of distance (0.25: 1 mm from a 1 mm edge the
  /// edges are at most 1.25 mm).
  double gradation = 0.25;
};

/// The target edge length at each input vertex, and what limited it.
struct SizeField
{
  std::vector<double> length;           ///< mm, per input vertex
  double smallestCurvatureLength = 0.0; ///< the shortest length the curvature asked for, mm
  std::int64_t verticesAtMinimum = 0;   ///< where the curvature asked for less than the minimum
};

/// Largest absolute principal curvature (1/mm) at each vertex, from a quadric height field fitted
/// in least squares to the vertices around it within `radius` of it (the ring of triangles
/// around it always, whatever their size). The neighbourhood does not cross edges sharper than
/// the feature angle: each side of a crease is fitted on its own and the larger curvature kept
/// (a crease is followed by the remesher's feature lines, not by small triangles). A radius
/// of a few input edges averages out the staircase noise of a segmented export.
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<double> estimateCurvature(
  const std::vector<Vec3>& points,
  const std::vector<probe::Triangle>& triangles,
  const std::vector<double>& radius,
  double featureAngleDegrees);

/// The longest edge whose flat triangles stay within `deviation` of a surface of this
/// curvature: a triangle of edge L spans a circle of radius L / sqrt(3), whose sagitta is
/// curvature * L^2 / 6; 0.8 of that, because remeshed edges vary about their target.
IMPLANTBONECONTACTFILTERS_EXPORT double edgeLengthForDeviation(double curvature, double deviation);

/// Limits the growth of the lengths along the input's edges: afterwards no vertex's length
/// exceeds a neighbour's plus gradation times their distance (a shortest-path pass, in order of
/// increasing length).
IMPLANTBONECONTACTFILTERS_EXPORT void gradeSizeField(const std::vector<Vec3>& points,
  const std::vector<probe::Triangle>& triangles,
  double gradation,
  std::vector<double>& length);

/// The graded, clamped target lengths for an input surface (curvature measured first over half
/// the maximum edge, then again over half the length that asked for).
IMPLANTBONECONTACTFILTERS_EXPORT SizeField curvatureSizeField(const std::vector<Vec3>& points,
  const std::vector<probe::Triangle>& triangles,
  const SizingOptions& options);

} // namespace remesh
} // namespace ibc

#endif
