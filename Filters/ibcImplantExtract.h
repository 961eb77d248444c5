// SPDX-License-Identifier: BSD-3-Clause
// Extracting a metal implant's surface from CT without the usual inflation: the algorithms of
// vtkImplantExtract in plain C++.
//
// The CT shows a metal edge as a blurred step (point-spread function, partial volume and the
// blooming of metal): across the edge the values fall from the metal plateau M to the
// surrounding tissue L along L + (M - L) * Phi((edge - t) / sigma). A threshold below the half-way
// level (M + L) / 2 therefore gives a surface outside the true one, by more the lower the
// threshold and the stronger the blooming. Each vertex of a first (threshold) surface is moved
// along its normal to where its own profile says the edge is:
//  - when the metal plateau is visible, to where the profile crosses the local half-way level
//    between the plateau and the tissue just outside;
//  - when the scanner clips (12-bit CT stop at 3071 HU, below a metal's true value), the edge
//    lies above the clip and cannot be read off: the visible tail below the clip is fitted with
//    the blurred-step model (crossing positions of several levels are linear in the normal
//    quantiles of the levels) and extrapolated. The model needs the metal's true HU: given by
//    the user, or by default titanium alloy (6000 HU on an extended scale, the common stem
//    material); behind a clip above that, the half-way level is assumed at the clip.
#ifndef ibcImplantExtract_h
#define ibcImplantExtract_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcNormalProbe.h"
#include "ibcVector.h"

#include <array>
#include <cstdint>
#include <vector>

namespace ibc
{
class Collective;

namespace extract
{

/// Counts of the values at or above `minimumHU`, in 1 HU bins: counts[b] holds the values in
/// [minimumHU + b, minimumHU + b + 1). Additive, so ranks can sum theirs.
struct HighTail
{
  double minimumHU = 2000.0;
  std::vector<std::int64_t> counts;

  void add(double value);
  std::int64_t total() const;
};

struct MetalLevels
{
  bool found = false;      ///< there are metal voxels at all
  double plateau = 0.0;    ///< the metal's visible value (the clip value when clipped)
  bool clipped = false;    ///< the metal plateau is a clipped spike at the maximum value
  double clipValue = 0.0;  ///< meaningful when clipped
  double threshold = 0.0;  ///< segmentation threshold, half-way between plateau and minimum
  std::int64_t voxels = 0; ///< voxels at or above the threshold
};

/// Metal levels from the high tail of the histogram. The plateau is the clip value when at
/// least 5 % of the tail sits in its top bin (a scanner's clip makes such a spike; noise on a
/// true plateau does not), else the 90th percentile of the tail (most metal voxels lie inside
/// the implant, away from the blurred edge). The threshold is half-way between the plateau and
/// metalMinimumHU, the value no bone reaches.
IMPLANTBONECONTACTFILTERS_EXPORT MetalLevels metalLevels(const HighTail& tail);

/// The largest 6-connected component of `mask` (box of `dimensions`, x fastest) with its
/// enclosed cavities filled (background not 6-connected to the box faces). Components smaller
/// than `minimumVoxels` are dropped; with keepAll, every component of at least that size is
/// kept rather than the largest only.
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<std::uint8_t> solidComponent(
  const std::vector<std::uint8_t>& mask,
  const std::array<int, 3>& dimensions,
  std::int64_t minimumVoxels,
  bool keepAll,
  int& componentsFound);

/// Inverse of the standard normal distribution function (Newton on erfc; |error| < 1e-12).
IMPLANTBONECONTACTFILTERS_EXPORT double normalQuantile(double probability);

/// How a vertex's profile is read.
struct EdgeModel
{
  double threshold = 0.0; ///< the level of the first surface
  bool clipped = false;
  double clipValue = 3071.0;
  double metalHU = 0.0;             ///< the metal's true value; 0 = plateau, or clip assumption
  double assumedMetalHU = 6000.0;   ///< behind a clip without metalHU: titanium alloy
  double outsideStart = 2.5;        ///< mm beyond the threshold crossing where the tissue level
  double outsideMaximumStart = 5.0; ///< ... is measured (median over outsideLength), at least
  double outsideLength = 1.5;       ///< ... three edge widths out, clear of the blurred edge
  double maximumShift = 3.0;        ///< mm; a larger correction is rejected as not an edge
};

struct EdgeFit
{
  bool valid = false;
  double edge = 0.0;      ///< position of the edge along the normal (mm from the vertex)
  double crossing = 0.0;  ///< where the profile crosses the threshold (mm from the vertex)
  double outsideHU = 0.0; ///< tissue level just outside
  double metalHU = 0.0;   ///< metal level used (plateau, given, or assumed)
  double sigma = 0.0;     ///< edge spread fitted from the clipped tail (0 when not fitted)
};

/// Reads one profile (values at increasing `distances` along the outward normal, NaN where
/// unknown) and finds the edge.
IMPLANTBONECONTACTFILTERS_EXPORT EdgeFit locateEdge(const std::vector<double>& distances,
  const double* values,
  const EdgeModel& model);

/// Averages per-vertex values over each vertex's neighbours (edges of the triangles) for the
/// given iterations; vertices marked invalid take their valid neighbours' mean (and become
/// valid once they have one). Smoothing the shift, not the points, does not shrink the surface.
IMPLANTBONECONTACTFILTERS_EXPORT void smoothOverMesh(std::vector<double>& values,
  std::vector<char>& valid,
  const std::vector<std::array<std::int64_t, 3>>& triangles,
  int iterations);

/// Index-to-physical geometry of the whole volume (from the pipeline information, so that a
/// rank without voxels knows it too).
struct IMPLANTBONECONTACTFILTERS_EXPORT VolumeGeometry
{
  double origin[3] = { 0, 0, 0 };
  double spacing[3] = { 1, 1, 1 };
  double direction[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };

  Vec3 toPhysical(double i, double j, double k) const;
  /// Rows of the 3x4 physical-to-index matrix.
  void physicalToIndex(double matrix[12]) const;
  double voxelVolume() const;
};

/// The high tail of the histogram of the voxels this rank owns (pieces share their boundary
/// layers: a layer belongs to the piece below it unless it is the volume's last), summed over
/// the ranks, and the largest value of the whole volume. Collective: every rank calls it, with
/// hasVoxels false where its block is empty. The counts stop at the largest value.
IMPLANTBONECONTACTFILTERS_EXPORT HighTail highTailAcrossRanks(const probe::VolumeBlock& block,
  bool hasVoxels,
  double minimumHU,
  const Collective& comm,
  double& maximum);

/// The voxels of the metal's bounding box (every voxel at or above the threshold, on any rank),
/// grown by a margin, gathered on rank 0 (x fastest; NaN where no rank held a voxel).
struct IMPLANTBONECONTACTFILTERS_EXPORT MetalBox
{
  bool found = false; ///< some voxel reaches the threshold
  int extent[6] = { 0, -1, 0, -1, 0, -1 };
  std::array<int, 3> size = { 0, 0, 0 };
  std::vector<float> values; ///< on rank 0 only
  std::size_t count() const;
  std::size_t index(int i, int j, int k) const; ///< of a voxel of the extent in values
};

/// Collective: every rank calls it. No rank sends more than its own piece's part of the box.
IMPLANTBONECONTACTFILTERS_EXPORT MetalBox gatherMetalBox(const probe::VolumeBlock& block,
  bool hasVoxels,
  double threshold,
  const double spacing[3],
  double marginMM,
  const Collective& comm);

/// Each vertex of a first (threshold) surface moved to the metal edge its own profile shows.
struct EdgeCorrection
{
  std::vector<double> shift;  ///< mm along the normal, smoothed over the neighbours
  std::int64_t fitted = 0;    ///< vertices whose profile showed an edge
  std::vector<double> sigmas; ///< edge spreads fitted from clipped tails
  std::vector<double> metals; ///< metal levels used
};

/// Samples each vertex's profile (cubic, 5 mm into the metal to 7 mm out, 0.1 mm steps) in
/// `box`, locates its edge with `model`, and averages the shifts over the mesh (3 iterations);
/// vertices without an edge take their neighbours' shift, or 0. Threaded.
IMPLANTBONECONTACTFILTERS_EXPORT EdgeCorrection moveToMetalEdges(const probe::VolumeBlock& box,
  const std::vector<Vec3>& points,
  const std::vector<Vec3>& normals,
  const std::vector<std::array<std::int64_t, 3>>& triangles,
  const EdgeModel& model);

} // namespace extract
} // namespace ibc

#endif
