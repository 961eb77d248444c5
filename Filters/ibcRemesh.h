// SPDX-License-Identifier: BSD-3-Clause
// Isotropic explicit remeshing of implant surfaces (split long edges, collapse short ones, flip
// towards valence 6, tangential relaxation, projection back onto the input), with sharp
// feature edges and corners kept: the algorithm of vtkImplantRemesh in plain C++ (OpenMesh).
#ifndef ibcRemesh_h
#define ibcRemesh_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcNormalProbe.h"                  // Triangle
#include "ibcRemeshSizing.h"
#include "ibcVector.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ibc
{
namespace remesh
{

/// What curvature-adaptive sizing did.
struct AdaptiveReport
{
  double smallestCurvatureLength = 0.0; ///< mm, the shortest edge the curvature asked for
  std::int64_t verticesAtMinimum = 0;   ///< input vertices whose curvature asked for less
                                        ///< than the minimum edge length
  int correctionRounds = 0; ///< rounds that shrank the sizes where the result was too far
};

struct Options
{
  double targetEdgeLength = 1.0; ///< mm
  /// When > 0, the target length is corrected during the iterations so that the result has
  /// about this many points (start from edgeLengthForPointCount).
  std::int64_t targetPointCount = 0;
  /// When set, receives the target length the remeshing ended with (targetEdgeLength, or as
  /// corrected for targetPointCount).
  double* reachedEdgeLength = nullptr;
  int iterations = 10;
  double featureAngleDegrees = 45.0; ///< edges whose faces turn more than this are kept
  bool preserveBoundary = true;      ///< boundary vertices of an open surface stay put
  /// When set, each stage's wall time (seconds) is added here under its name (construct,
  /// split, collapse, reorder, compact, flip, relax, project, and "wait for tree": the time the
  /// first projection waited for the search tree built in the background): for benchmarks.
  std::map<std::string, double>* stageSeconds = nullptr;
  /// Curvature-adaptive sizing instead of targetEdgeLength: the target length at each place is
  /// the longest whose triangles stay within sizing.maximumDeviation of the input (see
  /// curvatureSizeField). After the iterations, where an input vertex is still farther than
  /// that from the result, the sizes around it shrink and a few more iterations run (three
  /// times at most). sizing.featureAngleDegrees is taken from featureAngleDegrees.
  bool adaptive = false;
  SizingOptions sizing;
  AdaptiveReport* adaptiveReport = nullptr; ///< filled when set
};

struct TriangleMesh
{
  std::vector<Vec3> points;
  std::vector<probe::Triangle> triangles;
};

/// What the repair of the input found (duplicate points merged, degenerate and duplicate
/// triangles dropped, orientation made consistent), and a reason when the input is refused.
struct Repair
{
  std::int64_t mergedPoints = 0;
  std::int64_t droppedTriangles = 0;
  std::int64_t flippedTriangles = 0;
  std::string problem;
};

/// Cleans what STL files carry: exact duplicate points, degenerate and repeated triangles, and
/// inconsistent orientation (made outward by the signed volume). Refuses (problem set) a
/// surface with non-manifold edges.
IMPLANTBONECONTACTFILTERS_EXPORT TriangleMesh repairSurface(const TriangleMesh& input,
  Repair& report);

/// Remeshes a repaired surface (at most 500 million triangles, as repairSurface accepts; empty
/// otherwise). progress(fraction) is called between iterations.
IMPLANTBONECONTACTFILTERS_EXPORT TriangleMesh remeshSurface(const TriangleMesh& input,
  const Options& options,
  const std::function<void(double)>& progress = nullptr);

/// The edge length that gives about `points` vertices on a surface of this area (equilateral
/// triangles, two per vertex).
IMPLANTBONECONTACTFILTERS_EXPORT double edgeLengthForPointCount(double area, std::int64_t points);

IMPLANTBONECONTACTFILTERS_EXPORT double surfaceArea(const TriangleMesh& mesh);

struct Quality
{
  double minimumAngle = 0.0;     ///< degrees, over all triangles
  double meanMinimumAngle = 0.0; ///< degrees, mean of each triangle's smallest angle
  double shareAbove30 = 0.0;     ///< share of triangles whose smallest angle is >= 30 degrees
  double meanEdgeLength = 0.0;   ///< mm
  double edgeLengthCV = 0.0;     ///< standard deviation / mean of the edge lengths
  double hausdorff = 0.0;        ///< mm, symmetric, at the vertices of both surfaces
  double outputToInput = 0.0;    ///< mm, largest distance of an output vertex from the input
  double inputToOutput = 0.0;    ///< mm, largest distance of an input vertex from the output
  double areaChangePercent = 0.0;
  std::int64_t boundaryEdges = 0;
  std::int64_t nonManifoldEdges = 0;
};

IMPLANTBONECONTACTFILTERS_EXPORT Quality measureQuality(const TriangleMesh& output,
  const TriangleMesh& input);

/// Closest point on a triangle surface, through a bounding-volume hierarchy of its triangles.
class IMPLANTBONECONTACTFILTERS_EXPORT ClosestPointFinder
{
public:
  /// cellSize: about the distance of the queries from the surface (big triangles are cut
  /// into pieces about twice that long).
  ClosestPointFinder(const TriangleMesh& mesh, double cellSize);
  /// The closest point within maxDistance; false when there is none that close.
  bool closest(Vec3 query, double maxDistance, Vec3& closestPoint, double& distance) const;
  /// The same, with the unit normal and the index of the triangle the closest point lies on.
  bool closest(Vec3 query,
    double maxDistance,
    Vec3& closestPoint,
    double& distance,
    Vec3& faceNormal,
    std::int64_t& triangle) const;

private:
  struct Impl;
  std::shared_ptr<Impl> Internals;
};

} // namespace remesh
} // namespace ibc

#endif
