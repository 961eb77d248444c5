// SPDX-License-Identifier: BSD-3-Clause
// Sampling a CT along surface normals: the algorithms of vtkNormalOffsetProbe in plain C++.
//
// A volume block is a raw scalar buffer (x fastest) with its structured extent and the 3x4
// matrix from physical (world) coordinates to continuous structured indices, so any spacing,
// origin and direction matrix is honoured. Sampling happens in index space.
#ifndef ibcNormalProbe_h
#define ibcNormalProbe_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcCollective.h"
#include "ibcContactModel.h"
#include "ibcVector.h"

#include <array>
#include <cstdint>
#include <vector>

namespace ibc
{
namespace probe
{

enum class Interpolation
{
  Nearest = 0,
  Linear = 1,
  Cubic = 2 ///< Catmull-Rom cubic convolution (exact for quadratic fields), 4x4x4 voxels
};

enum class Mode
{
  SingleOffset = 0,
  ProfileMaximum = 1,
  ProfileMean = 2,
  ProfileMedian = 3,
  Automatic = 4,
  MetalCorrected = 5 ///< the metal's blurred contribution fitted and subtracted (ibcContactModel)
};

/// Voxels on each side of a sample that an interpolation reads (1 for linear: the cell).
IMPLANTBONECONTACTFILTERS_EXPORT int stencilReach(Interpolation interpolation);

/// A block of voxels: the data, its extent and where it sits in the world.
struct IMPLANTBONECONTACTFILTERS_EXPORT VolumeBlock
{
  const void* data = nullptr;
  int scalarType = 0;                           ///< VTK scalar type id (VTK_SHORT, VTK_FLOAT, ...)
  int components = 1;                           ///< the first component is sampled
  int extent[6] = { 0, -1, 0, -1, 0, -1 };      ///< voxels held here (a piece under MPI)
  int wholeExtent[6] = { 0, -1, 0, -1, 0, -1 }; ///< the whole volume's extent
  double physicalToIndex[12] = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0 }; ///< rows of a 3x4 matrix

  Vec3 toIndex(Vec3 world) const;
  Vec3 directionToIndex(Vec3 direction) const;
  /// Whether the interpolation stencil at this continuous index lies inside the block.
  bool containsStencil(Vec3 index, Interpolation interpolation) const;
  bool insideWholeExtent(Vec3 index) const;
};

enum SampleStatus : std::uint8_t
{
  Sampled = 0,
  OutsideVolume = 1, ///< the position is outside the whole volume: the sample is NaN
  InOtherBlock = 2   ///< inside the volume but its stencil is not in this block
};

/// Value at a continuous structured index; false (and value untouched) when the stencil is not
/// inside the block.
IMPLANTBONECONTACTFILTERS_EXPORT bool interpolate(const VolumeBlock& block,
  Vec3 index,
  Interpolation interpolation,
  double& value);

/// Samples vertexCount profiles: sample s of vertex v is at the continuous index
/// baseIndices[v] + distances[s] * indexSteps[v]. values and status hold vertexCount *
/// distances.size() entries, vertex by vertex; values are NaN where status is not Sampled.
/// Threaded with vtkSMPTools.
IMPLANTBONECONTACTFILTERS_EXPORT void sampleProfiles(const VolumeBlock& block,
  const Vec3* baseIndices,
  const Vec3* indexSteps,
  std::int64_t vertexCount,
  const std::vector<double>& distances,
  Interpolation interpolation,
  double* values,
  std::uint8_t* status);

/// sampleProfiles, then the samples whose stencil lies in another rank's block are asked of
/// that rank (pairwise, in the same order on every rank). Collective: every rank calls it, with
/// hasVoxels false where its block is empty. Without distribution it is sampleProfiles.
IMPLANTBONECONTACTFILTERS_EXPORT void sampleProfilesAcrossRanks(const VolumeBlock& block,
  bool hasVoxels,
  const Vec3* baseIndices,
  const Vec3* indexSteps,
  std::int64_t vertexCount,
  const std::vector<double>& distances,
  Interpolation interpolation,
  const Collective& comm,
  double* values,
  std::uint8_t* status);

/// How the profile of a surface point (at continuous index `base`, going `step` index units
/// per mm along its normal) is sampled by an interpolation, for the metal model.
IMPLANTBONECONTACTFILTERS_EXPORT contact::ProfileSampling profileSampling(const VolumeBlock& block,
  Vec3 base,
  Vec3 step,
  Interpolation interpolation);

/// |component| of each unit normal along the volume's slice axis (the third index axis).
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<double> sliceComponents(const VolumeBlock& block,
  const std::vector<Vec3>& normals);

/// Fits the metal model (ibcContactModel.h) to the profiles of a spread-out subset of about
/// fitProfileTarget surface points, chosen by their coordinates so that any distribution of the
/// surface picks the same points; the subset's profiles are gathered on every rank and sorted,
/// so every rank fits the same data in the same order and gets the serial result. Collective.
IMPLANTBONECONTACTFILTERS_EXPORT contact::MetalModel fitMetalAcrossRanks(const VolumeBlock& block,
  bool hasVoxels,
  const std::vector<Vec3>& points,
  const std::vector<std::array<std::int64_t, 3>>& triangles,
  const std::vector<Vec3>& baseIndices,
  const std::vector<Vec3>& indexSteps,
  const std::vector<double>& sliceComponents,
  const std::vector<contact::SurfaceCurvature>& curvatures,
  const std::vector<double>& distances,
  Interpolation interpolation,
  const Collective& comm,
  std::int64_t fitProfileTarget = 1500);

/// Distances (mm) along the normal at which a mode samples.
struct IMPLANTBONECONTACTFILTERS_EXPORT SamplingPlan
{
  Mode mode = Mode::SingleOffset;
  double offset = 1.0;
  double profileStart = 0.0;
  double profileEnd = 6.0;
  int profileSamples = 25;

  std::vector<double> distances() const;
  /// Metal Corrected mode: the distances of the profiles the metal model is fitted to.
  std::vector<double> fitDistances() const;
};

/// Parameters of the automatic (artefact-aware) mode.
struct IMPLANTBONECONTACTFILTERS_EXPORT AutomaticRule
{
  double slopeThreshold = 50.0; ///< HU per mm: the metal fall-off has ended below this
  double slopeWindow = 1.0;     ///< mm over which the slope is measured
  double margin = 0.25;         ///< mm added beyond the end of the fall-off
  double bandWidth = 1.0;       ///< mm of profile whose median is reported
};

struct ProfileResult
{
  double value = 0.0;
  double distance = 0.0; ///< where the value was taken (automatic mode; mean otherwise)
  bool valid = false;
};

/// Reduces one vertex's profile (values at `distances`, NaN where not sampled) to a value.
IMPLANTBONECONTACTFILTERS_EXPORT ProfileResult reduceProfile(const std::vector<double>& distances,
  const double* values,
  Mode mode,
  const AutomaticRule& rule);

/// Angle-weighted vertex normals of a triangle mesh (unnormalised sums, so that pieces of a
/// distributed mesh can be added before normalising).
IMPLANTBONECONTACTFILTERS_EXPORT void accumulateVertexNormals(const std::vector<Vec3>& points,
  const std::vector<std::array<std::int64_t, 3>>& triangles,
  std::vector<Vec3>& normalSums);

using Triangle = std::array<std::int64_t, 3>;

/// Which triangles use each vertex (compressed rows), to walk a mesh's edges in linear time.
class IMPLANTBONECONTACTFILTERS_EXPORT VertexTriangles
{
public:
  VertexTriangles(std::int64_t vertexCount, const std::vector<Triangle>& triangles);
  /// Triangles other than `triangle` that use the edge (a, b); returns how many there are and
  /// stores the first in `other`.
  int trianglesAcross(std::int64_t triangle,
    std::int64_t a,
    std::int64_t b,
    std::int64_t& other) const;

private:
  const std::vector<Triangle>& Triangles;
  std::vector<std::int64_t> Starts;
  std::vector<std::int64_t> Entries;
};

/// Makes neighbouring triangles traverse their shared edge in opposite directions, keeping the
/// orientation of the first triangle of each connected patch. Non-manifold edges are not
/// crossed.
IMPLANTBONECONTACTFILTERS_EXPORT void orientConsistently(std::int64_t vertexCount,
  std::vector<Triangle>& triangles);

/// 1 for vertices on an edge used by only one triangle (a hole, the cut between the pieces of
/// a distributed surface, or every edge of an STL whose vertices were not merged).
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<char> openEdgeVertices(std::int64_t vertexCount,
  const std::vector<Triangle>& triangles);

/// Signed volume of the triangles with respect to a reference point: positive when a closed
/// surface's triangles face outward; for an open surface, positive when they face away from the
/// reference (the surface's centroid).
IMPLANTBONECONTACTFILTERS_EXPORT double signedVolume(const std::vector<Vec3>& points,
  const std::vector<std::array<std::int64_t, 3>>& triangles,
  Vec3 reference);

/// Whether given normals point inward on balance (their sum of cosines with the directions
/// from the surface's centroid is negative), over all ranks.
IMPLANTBONECONTACTFILTERS_EXPORT bool pointInwardOnBalance(const std::vector<Vec3>& points,
  const std::vector<Vec3>& normals,
  const Collective& comm);

/// Outward, angle-weighted unit normals of a surface's points: duplicated points merged, triangle
/// orientation made consistent, the whole oriented by its signed volume about its centroid
/// (reduced over ranks), and the normals of points on the cuts between surface pieces summed
/// across ranks.
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<Vec3> computeOutwardNormals(
  const std::vector<Vec3>& points,
  const std::vector<Triangle>& triangles,
  const Collective& comm);

/// Adds, at the points on the cut between the pieces of a distributed surface, the other pieces'
/// per-point sums (`width` values per point in `sums`), matching points by their exact
/// coordinates. Collective; nothing to do in serial.
IMPLANTBONECONTACTFILTERS_EXPORT void addSumsAcrossCut(const std::vector<Vec3>& points,
  const std::vector<Triangle>& triangles,
  int width,
  std::vector<double>& sums,
  const Collective& comm);

/// The curvature of the surface at each point as the metal model needs it (see
/// contact::SurfaceCurvature): the second fundamental form fitted (least squares) to the normal
/// curvatures along the point's edges, 2 (n . (p - q)) / |p - q|^2, with the given unit normals;
/// `sliceAxis` is the volume's slice axis in world coordinates. Points whose edges do not span
/// their tangent plane get none. The sums are exchanged across ranks at the cuts, so a
/// distributed surface gets the serial result. Collective.
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<contact::SurfaceCurvature> surfaceCurvatures(
  const std::vector<Vec3>& points,
  const std::vector<Triangle>& triangles,
  const std::vector<Vec3>& normals,
  Vec3 sliceAxis,
  const Collective& comm);

} // namespace probe
} // namespace ibc

#endif
