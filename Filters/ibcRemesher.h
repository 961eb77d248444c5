// SPDX-License-Identifier: BSD-3-Clause
// The remesher behind remeshSurface: the surface as an OpenMesh half-edge mesh, and the
// iterations on it. Its methods are defined by concern in ibcRemesher.cxx (driver: run,
// iterate, sizes, building and rebuilding the mesh), ibcRemeshOperations.cxx (features, flips,
// splits, collapses, valences, relaxation) and ibcRemeshProjection.cxx (the input's search
// structures, projection onto the input and its feature lines). Private to the module.
#ifndef ibcRemesher_h
#define ibcRemesher_h

#include "ibcPrimitiveTree.h"
#include "ibcRemesh.h"
#include "ibcRemeshArrays.h"
#include "ibcVector.h"

#include <OpenMesh/Core/Mesh/TriMesh_ArrayKernelT.hh>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace ibc
{
namespace remesh
{

// Hidden: nothing here is exported from the library, so that calls within a file may be
// inlined (GCC does not inline a default-visibility function of a shared library: another
// library could interpose it).
namespace [[gnu::visibility("hidden")]] detail
{
struct MeshTraits : public OpenMesh::DefaultTraits
{
  using Point = OpenMesh::Vec3d;
  using Normal = OpenMesh::Vec3d;
  // No cached normals: every test computes them from the current corners (caches go stale
  // with each split, collapse and move, and refreshing them cost more than the tests).
  VertexAttributes(OpenMesh::Attributes::Status);
  EdgeAttributes(OpenMesh::Attributes::Status);
  FaceAttributes(OpenMesh::Attributes::Status);
  HalfedgeAttributes(OpenMesh::Attributes::PrevHalfedge | OpenMesh::Attributes::Status);
};
using Mesh = OpenMesh::TriMesh_ArrayKernelT<MeshTraits>;

inline Vec3 toVec(const OpenMesh::Vec3d& p)
{
  return { p[0], p[1], p[2] };
}
inline OpenMesh::Vec3d toOM(Vec3 p)
{
  return { p.x, p.y, p.z };
}

enum FeatureType : std::uint8_t
{
  Smooth = 0,
  OnFeatureLine = 1,
  Corner = 2
};

class Remesher
{
public:
  /// inputSize: the target length at each input vertex for adaptive sizing; empty for
  /// options.targetEdgeLength everywhere.
  Remesher(const TriangleMesh& input, const Options& options, std::vector<double> inputSize = {});

  ~Remesher() { this->waitForSurfaceTree(); }
  Remesher(const Remesher&) = delete;
  Remesher& operator=(const Remesher&) = delete;

  /// The target length, as corrected for a point count.
  double targetEdgeLength() const { return this->Opts.targetEdgeLength; }

  /// The target lengths at the input's vertices (adaptive sizing; empty otherwise).
  const std::vector<double>& inputSize() const { return this->InputSize; }

  TriangleMesh run(const std::function<void(double)>& progress);

private:
  /// Edges longer than this times their target are split, shorter than CollapseBelow times it
  /// collapsed (and no collapse may make one longer than SplitAbove times it).
  static constexpr double SplitAbove = 4.0 / 3.0;
  static constexpr double CollapseBelow = 4.0 / 5.0;
  /// Uniform sizing: an edge whose middle lies farther than this share of the target length from
  /// the input is split at the end. (A 1 mm edge across a 0.5 mm rounding cuts up to 0.25 mm
  /// deep; on smooth parts a 4/3 mm edge over a 5 mm radius stays 0.04 mm off.)
  static constexpr double CutCornerShare = 0.08;
  /// Adaptive sizing: at most this many rounds of smaller targets where the result is too far.
  static constexpr int CorrectionRounds = 5;

  // Small helpers, defined here (inline): they run for every vertex or edge, from all three
  // files.
  bool adaptive() const { return !this->InputSize.empty(); }

  /// The target edge length at a vertex.
  double sizeOf(Mesh::VertexHandle v) const
  {
    return this->adaptive() ? this->M.property(this->Size, v) : this->Opts.targetEdgeLength;
  }

  /// The target of an edge: the smallest at its ends and at its middle. (The finer place
  /// decides the deviation, and an edge across a narrow rounded rim has both ends on the
  /// flatter sides.)
  double edgeTarget(Mesh::EdgeHandle e) const
  {
    if (!this->adaptive())
    {
      return this->Opts.targetEdgeLength;
    }
    const auto h = this->M.halfedge_handle(e, 0);
    const auto from = this->M.from_vertex_handle(h);
    const auto to = this->M.to_vertex_handle(h);
    const double ends = std::min(this->sizeOf(from), this->sizeOf(to));
    // The middle's input triangle, walked to from the one an end was nearest.
    std::int32_t triangle = this->inputTriangleHint(from);
    const Vec3 middle = toVec(0.5 * (this->M.point(from) + this->M.point(to)));
    Vec3 q;
    double distance;
    if (triangle < 0 || !this->walkToNearest(middle, ends, triangle, q, distance))
    {
      return ends;
    }
    return std::min(ends, this->sizeOnInputTriangle(triangle, q));
  }

  /// The input triangle a vertex was last nearest (one around it for an input vertex), or -1.
  std::int32_t inputTriangleHint(Mesh::VertexHandle v) const
  {
    const std::int32_t hint = this->M.property(this->SurfaceHint, v);
    if (hint > AtInputVertex)
    {
      return hint;
    }
    const std::size_t vertex = AtInputVertex - hint;
    if (vertex + 1 >= this->CornerStart.size() ||
      this->CornerStart[vertex] == this->CornerStart[vertex + 1])
    {
      return -1;
    }
    return this->CornerTriangles[this->CornerStart[vertex]];
  }

  /// The target length at a point of input triangle `triangle`, interpolated from its corners.
  double sizeOnInputTriangle(std::int32_t triangle, Vec3 q) const
  {
    const auto& t = this->Input.triangles[triangle];
    const Vec3 a = this->Input.points[t[0]];
    const Vec3 b = this->Input.points[t[1]];
    const Vec3 c = this->Input.points[t[2]];
    const Vec3 normal = cross(b - a, c - a);
    const double twiceArea = dot(normal, normal);
    if (!(twiceArea > 0.0))
    {
      return std::min({ this->InputSize[t[0]], this->InputSize[t[1]], this->InputSize[t[2]] });
    }
    const double wa = std::max(0.0, dot(cross(b - q, c - q), normal) / twiceArea);
    const double wb = std::max(0.0, dot(cross(c - q, a - q), normal) / twiceArea);
    const double wc = std::max(0.0, 1.0 - wa - wb);
    return (wa * this->InputSize[t[0]] + wb * this->InputSize[t[1]] + wc * this->InputSize[t[2]]) /
      std::max(wa + wb + wc, 1e-12);
  }

  /// The same at a point of input feature segment `segment`.
  double sizeOnFeatureSegment(std::int32_t segment, Vec3 q) const
  {
    const auto& ends = this->LineEnds[segment];
    const Vec3 a = this->Input.points[ends[0]];
    const Vec3 b = this->Input.points[ends[1]];
    const double squared = dot(b - a, b - a);
    const double s = squared > 0.0 ? std::clamp(dot(q - a, b - a) / squared, 0.0, 1.0) : 0.0;
    return (1.0 - s) * this->InputSize[ends[0]] + s * this->InputSize[ends[1]];
  }

  /// Runs a stage, adding its wall time to Options::stageSeconds when asked for.
  template<typename Stage>
  void timed(const char* name, Stage&& stage)
  {
    if (!this->Opts.stageSeconds)
    {
      stage();
      return;
    }
    const auto start = std::chrono::steady_clock::now();
    stage();
    (*this->Opts.stageSeconds)[name] +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  bool locked(Mesh::VertexHandle v) const
  {
    return this->M.property(this->Feature, v) == Corner ||
      (this->Opts.preserveBoundary && this->M.is_boundary(v));
  }

  /// Unit normal of a face from its corners (zero for a degenerate face).
  OpenMesh::Vec3d faceNormal(Mesh::FaceHandle f) const
  {
    const auto h = this->M.halfedge_handle(f);
    const auto& a = this->M.point(this->M.to_vertex_handle(h));
    const auto& b = this->M.point(this->M.to_vertex_handle(this->M.next_halfedge_handle(h)));
    const auto& c = this->M.point(this->M.from_vertex_handle(h));
    const auto normal = (b - a) % (c - a);
    const double length = normal.norm();
    return length > 0.0 ? normal / length : normal;
  }

  double edgeLength(Mesh::EdgeHandle e) const
  {
    const auto h = this->M.halfedge_handle(e, 0);
    return (
      this->M.point(this->M.to_vertex_handle(h)) - this->M.point(this->M.from_vertex_handle(h)))
      .norm();
  }

  void countCollapses(std::size_t collapses)
  {
    this->TopologyChanges += collapses;
    this->DeletedVertices += collapses;
  }

  int targetValence(Mesh::VertexHandle v) const { return this->M.is_boundary(v) ? 4 : 6; }

  // The driver (ibcRemesher.cxx): iterations, sizes, building and rebuilding the mesh.
  void polish();
  void iterate();
  TriangleMesh currentMesh() const;
  bool shrinkSizesWhereTooFar();
  void refreshSizes();
  void buildMesh();
  void correctLengthForPointCount(int iteration);
  void rebuildInSpatialOrder();

  // Local operations (ibcRemeshOperations.cxx): features, flips, splits, collapses, valences,
  // tangential relaxation.
  void splitEdgesAwayFromInput(double share);
  bool splitStaysShaped(Mesh::HalfedgeHandle h, Vec3 middle) const;
  void markFeatures();
  bool flipIfNotDelaunay(Mesh::EdgeHandle e, double coplanar);
  void flipTowardsDelaunay();
  void legalizeAround(Mesh::VertexHandle inserted);
  void splitLongEdges(double ratio);
  Mesh::VertexHandle splitEdge(Mesh::EdgeHandle e);
  void collapseShortEdges(double low, double high);
  void collapseShortEdgesInParts(double low, double high);
  bool collapseIfShort(Mesh::EdgeHandle e, double lowRatio, double highRatio);
  bool ringStaysShaped(Mesh::VertexHandle end,
    Mesh::VertexHandle partner,
    const OpenMesh::Vec3d& target,
    double high,
    bool endMoves) const;
  void equalizeValences();
  void relaxTangentially();
  void relaxVertex(Mesh::VertexHandle v, std::vector<OpenMesh::Vec3d>& moved) const;

  // Projection (ibcRemeshProjection.cxx): the input's search structures, and the projection
  // onto the input and its feature lines.
  void buildSurfaceTree();
  void waitForSurfaceTree();
  bool projectOntoSurface(Mesh::VertexHandle v,
    Vec3 p,
    double near,
    double reach,
    Vec3& q,
    double& distance);
  bool projectOntoFeatureLine(Mesh::VertexHandle v, Vec3 p, double near, double reach, Vec3& q);
  bool walkToNearest(Vec3 p, double near, std::int32_t& triangle, Vec3& q, double& distance) const;
  void projectToInput();

  const TriangleMesh& Input;
  Options Opts;
  std::vector<double> InputSize; // adaptive sizing: target length at each input vertex
  Mesh M;
  std::size_t TopologyChanges = 0; // splits and collapses since the last reordering
  std::size_t DeletedVertices = 0; // collapsed since the last garbage collection
  std::size_t TargetVertices = 0;  // about how many the result has (equilateral triangles)
  PrimitiveTree<3> Surface;        // see buildSurfaceTree
  double TreePieceLength = 1.0;    // the longest piece in it
  std::thread SurfaceBuilder;
  PrimitiveTree<2> Lines;
  OpenMesh::EPropHandleT<bool> FeatureEdge;
  OpenMesh::VPropHandleT<std::uint8_t> Feature;
  /// The input triangle a vertex was last nearest; AtInputVertex - i for "one of the triangles
  /// around input vertex i", -1 for none.
  OpenMesh::VPropHandleT<std::int32_t> SurfaceHint;
  OpenMesh::VPropHandleT<float> Size;       // adaptive sizing: the target length at each vertex
  std::vector<std::array<int, 2>> LineEnds; // input vertices of each feature segment in Lines
  static constexpr std::int32_t AtInputVertex = -2;
  LargeArray<std::int32_t> PieceSource;     // input triangle of each tree piece
  LargeArray<std::int64_t> CornerStart;     // input triangles around each input vertex:
  LargeArray<std::int32_t> CornerTriangles; // CornerTriangles[CornerStart[v] ...]
  LargeArray<std::int32_t> EdgeNeighbour;   // input triangle across each edge
};
} // namespace detail

} // namespace remesh
} // namespace ibc

#endif
