// SPDX-License-Identifier: BSD-3-Clause
// The Remesher's driver: construction, the iterations, the sizes, and building and rebuilding
// the half-edge mesh.
#include "ibcRemesher.h"

#include "ibcRemeshGeometry.h"
#include "ibcRemeshSizing.h"

#include <vtkSMPTools.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace ibc
{
namespace remesh
{
namespace detail
{

namespace
{
/// Reserves room in a mesh for `vertices` vertices (3 edges and 2 faces each), backed by huge
/// pages where the kernel has them: a 1M-triangle mesh takes over 100 MB, touched for the
/// first time while it is built (see HugePageAllocator).
void reserveMesh(Mesh& mesh, std::size_t vertices)
{
  mesh.reserve(vertices, 3 * vertices, 2 * vertices);
  adviseHugePages(mesh.property(mesh.points_pph()).data_vector());
  adviseHugePages(mesh.property(mesh.vertex_status_pph()).data_vector());
  adviseHugePages(mesh.property(mesh.halfedge_status_pph()).data_vector());
  adviseHugePages(mesh.property(mesh.edge_status_pph()).data_vector());
  adviseHugePages(mesh.property(mesh.face_status_pph()).data_vector());
  if (mesh.n_vertices() != 0 || vertices < 3)
  {
    return;
  }
  // OpenMesh's connectivity arrays are reachable only through their first elements: a dummy
  // triangle is made and removed again. (Its values stay behind in the properties' first
  // entries until they are overwritten: the points are, and add_face sets no status bits.)
  const auto a = mesh.add_vertex({ 0, 0, 0 });
  const auto b = mesh.add_vertex({ 1, 0, 0 });
  const auto c = mesh.add_vertex({ 0, 1, 0 });
  const auto f = mesh.add_face(a, b, c);
  if (f.is_valid())
  {
    adviseHugePages(&mesh.vertex(a), vertices * sizeof(mesh.vertex(a)));
    adviseHugePages(
      &mesh.edge(Mesh::EdgeHandle(0)), 3 * vertices * sizeof(mesh.edge(Mesh::EdgeHandle(0))));
    adviseHugePages(&mesh.face(f), 2 * vertices * sizeof(mesh.face(f)));
  }
  mesh.clean_keep_reservation();
}
} // namespace

Remesher::Remesher(const TriangleMesh& input, const Options& options, std::vector<double> inputSize)
  : Input(input)
  , Opts(options)
  , InputSize(std::move(inputSize))
{
  // The search tree and the input's adjacency, on a thread of their own from the start: they
  // read only the input, and take about as long as building the mesh below.
  this->TreePieceLength = 16.0 * std::max(this->Opts.targetEdgeLength, 1e-6);
  this->SurfaceBuilder = std::thread(
    [this]
    {
      try
      {
        this->buildSurfaceTree();
      }
      catch (...)
      {
        // Out of memory: no tree and no walks; vertices stay where they are.
        this->Surface = PrimitiveTree<3>();
        this->CornerStart.clear();
        this->CornerTriangles.clear();
        this->EdgeNeighbour.clear();
      }
    });
  try
  {
    this->buildMesh();
  }
  catch (...)
  {
    this->waitForSurfaceTree(); // a running thread must not outlive the object
    throw;
  }
}

TriangleMesh Remesher::run(const std::function<void(double)>& progress)
{
  if (this->adaptive())
  {
    // Edge targets look at the input around each edge's middle (see edgeTarget).
    this->timed("wait for tree", [&] { this->waitForSurfaceTree(); });
  }
  for (int iteration = 0; iteration < this->Opts.iterations; ++iteration)
  {
    // An input with more vertices than the result will have (a dense export) is thinned
    // first: splitting its long slivers would add vertices that the collapses then remove.
    if (iteration == 0 && this->Input.points.size() > this->TargetVertices)
    {
      this->timed("thin", [&] { this->collapseShortEdgesInParts(CollapseBelow, SplitAbove); });
      this->timed("reorder", [&] { this->rebuildInSpatialOrder(); }); // compact for the splits
      this->TopologyChanges = 0;
      this->DeletedVertices = 0;
    }
    this->iterate();
    this->correctLengthForPointCount(iteration);
    if (progress)
    {
      progress(static_cast<double>(iteration + 1) / this->Opts.iterations);
    }
  }
  if (!this->adaptive() && this->Opts.targetPointCount <= 0)
  {
    // Uniform sizing: where an edge cuts across a tight rounding (a rim a segmentation
    // rounded over a few triangles, narrower than the edges), it is split and its middle
    // goes onto the rim.
    for (int pass = 0; pass < 3; ++pass)
    {
      this->timed("split", [&] { this->splitEdgesAwayFromInput(CutCornerShare); });
    }
  }
  this->polish();
  // Adaptive sizing: where the result still strays too far from the input, finer there (looked
  // at after the polish, which moves the vertices too).
  for (int round = 0; round < CorrectionRounds && this->shrinkSizesWhereTooFar(); ++round)
  {
    if (this->Opts.adaptiveReport)
    {
      this->Opts.adaptiveReport->correctionRounds = round + 1;
    }
    for (int iteration = 0; iteration < 4; ++iteration)
    {
      this->iterate();
    }
    this->polish();
  }
  return this->currentMesh();
}

/// The last collapses leave a few poorly shaped triangles; flips and relaxation without
/// further topology changes even them out.
void Remesher::polish()
{
  for (int round = 0; round < 3; ++round)
  {
    this->timed("flip", [&] { this->equalizeValences(); });
    this->timed("flip", [&] { this->flipTowardsDelaunay(); });
    this->timed("relax", [&] { this->relaxTangentially(); });
    this->timed("project", [&] { this->projectToInput(); });
  }
}

/// One round of split, collapse, flip, relax and project.
void Remesher::iterate()
{
  this->timed("split", [&] { this->splitLongEdges(SplitAbove); });
  this->timed("collapse", [&] { this->collapseShortEdges(CollapseBelow, SplitAbove); });
  if (this->TopologyChanges > this->M.n_vertices() / 5)
  {
    this->timed("reorder", [&] { this->rebuildInSpatialOrder(); });
    this->DeletedVertices = 0;
  }
  else if (this->DeletedVertices > this->M.n_vertices() / 10)
  {
    // Compacting the arrays costs a pass over the whole mesh: only once a tenth of the
    // vertices are gone (the passes in between skip deleted elements).
    this->timed("compact", [&] { this->M.garbage_collection(); });
    this->DeletedVertices = 0;
  }
  this->TopologyChanges = 0;
  this->timed("flip", [&] { this->equalizeValences(); });
  this->timed("relax", [&] { this->relaxTangentially(); });
  this->timed("project", [&] { this->projectToInput(); });
}

/// The mesh as it is now, in plain arrays (deleted elements left out).
TriangleMesh Remesher::currentMesh() const
{
  TriangleMesh result;
  std::vector<std::int64_t> index(this->M.n_vertices(), -1);
  for (auto v : this->M.vertices())
  {
    index[v.idx()] = static_cast<std::int64_t>(result.points.size());
    result.points.push_back(toVec(this->M.point(v)));
  }
  for (auto f : this->M.faces())
  {
    probe::Triangle t;
    int corner = 0;
    for (auto v : this->M.fv_range(f))
    {
      t[corner++] = index[v.idx()];
    }
    result.triangles.push_back(t);
  }
  return result;
}

/// Adaptive sizing: measures how far each input vertex is from the mesh as it is; where more
/// than the maximum deviation, shrinks the target there in proportion (the deviation grows
/// with the square of the length on a smooth surface, but only linearly where an edge cuts
/// across a crease of a faceted input) and grades again, and gives every mesh vertex its new
/// target. Whether any target changed.
bool Remesher::shrinkSizesWhereTooFar()
{
  if (!this->adaptive() || !(this->Opts.sizing.maximumDeviation > 0.0))
  {
    return false;
  }
  const double allowed = this->Opts.sizing.maximumDeviation;
  const double minimum = this->Opts.sizing.minimumEdgeLength;
  const TriangleMesh now = this->currentMesh();
  const ClosestPointFinder finder(now, 8.0 * this->Opts.targetEdgeLength);
  const std::vector<Vec3>& points = this->Input.points;
  std::vector<char> changed(points.size(), 0);
  const double reach = 4.0 * this->Opts.sizing.maximumEdgeLength;
  vtkSMPTools::For(0,
    static_cast<vtkIdType>(points.size()),
    [&](vtkIdType begin, vtkIdType end)
    {
      for (vtkIdType i = begin; i < end; ++i)
      {
        Vec3 q;
        double distance = reach;
        finder.closest(points[i], reach, q, distance);
        // (A margin: the polish after the corrections moves vertices a little.)
        if (distance > 0.9 * allowed && this->InputSize[i] > minimum)
        {
          const double factor = std::clamp(0.7 * allowed / distance, 0.3, 0.9);
          this->InputSize[i] = std::max(minimum, factor * this->InputSize[i]);
          changed[i] = 1;
        }
      }
    });
  if (std::find(changed.begin(), changed.end(), 1) == changed.end())
  {
    return false;
  }
  gradeSizeField(points, this->Input.triangles, this->Opts.sizing.gradation, this->InputSize);
  this->refreshSizes();
  return true;
}

/// Every mesh vertex's target from the input triangle it was last nearest.
void Remesher::refreshSizes()
{
  for (auto v : this->M.vertices())
  {
    const std::int32_t hint = this->M.property(this->SurfaceHint, v);
    const Vec3 p = toVec(this->M.point(v));
    if (hint >= 0)
    {
      this->M.property(this->Size, v) = static_cast<float>(this->sizeOnInputTriangle(hint, p));
    }
    else if (hint <= AtInputVertex)
    {
      this->M.property(this->Size, v) = static_cast<float>(this->InputSize[AtInputVertex - hint]);
    }
  }
}

/// The input as a half-edge mesh, with its feature edges and corners marked.
void Remesher::buildMesh()
{
  const TriangleMesh& input = this->Input;
  // Room for the input and for the largest the mesh gets (splits of a coarse input go past
  // the target's vertex count), reserved once: growing the arrays copies them into fresh
  // memory again and again, and room reserved but never used costs no memory.
  // (A closed surface has about 3 edges and 2 triangles per vertex.)
  const double length = std::max(this->Opts.targetEdgeLength, 1e-6);
  this->TargetVertices = static_cast<std::size_t>(
    std::min(2.0 * surfaceArea(input) / (std::sqrt(3.0) * length * length), 1e9));
  const std::size_t roomVertices = input.points.size() + 3 * this->TargetVertices / 2;
  reserveMesh(this->M, roomVertices);
  std::vector<Mesh::VertexHandle> handles;
  handles.reserve(input.points.size());
  for (const Vec3& p : input.points)
  {
    handles.push_back(this->M.add_vertex(toOM(p)));
  }
  for (const auto& t : input.triangles)
  {
    this->M.add_face(handles[t[0]], handles[t[1]], handles[t[2]]);
  }
  this->M.add_property(this->FeatureEdge);
  this->M.add_property(this->Feature);
  this->M.add_property(this->SurfaceHint);
  if (this->adaptive())
  {
    this->M.add_property(this->Size);
  }
  for (auto v : this->M.vertices())
  {
    // An input vertex lies on every triangle around it: any of them starts its walk, looked
    // up at the first projection (the triangles around each vertex are found on the
    // background thread).
    this->M.property(this->SurfaceHint, v) = AtInputVertex - v.idx();
    if (this->adaptive())
    {
      this->M.property(this->Size, v) = static_cast<float>(this->InputSize[v.idx()]);
    }
  }
  this->M.reserve(roomVertices, 3 * roomVertices, 2 * roomVertices); // the properties too
  adviseHugePages(this->M.property(this->SurfaceHint).data_vector());
  this->markFeatures();
  this->Lines.build();
}

/// With a target point count, corrects the target length for the count reached after each
/// iteration but the first and the last: V vertices of equilateral triangles cover the area,
/// but a real mesh's triangles are not all equilateral, and the count misses by a few percent
/// otherwise. The split and collapse limits leave edges between 4/5 and 4/3 of the length
/// alone, so a correction moves the count only part of the way: the length is scaled by the
/// ratio itself (not its square root, as the area alone would ask), and repeated.
void Remesher::correctLengthForPointCount(int iteration)
{
  if (this->Opts.targetPointCount <= 0 || iteration == 0 || iteration + 1 >= this->Opts.iterations)
  {
    return;
  }
  const double reached = static_cast<double>(this->M.n_vertices() - this->DeletedVertices);
  const double ratio = reached / static_cast<double>(this->Opts.targetPointCount);
  if (reached > 0.0 && std::abs(ratio - 1.0) > 0.005)
  {
    this->Opts.targetEdgeLength *= ratio;
  }
}

/// Renumbers vertices along a Morton (Z-order) curve and faces by their first vertex. Splits
/// append vertices at the end of the arrays and collapses leave holes, so after a big change
/// neighbours lie far apart in memory and every pass over the mesh waits on cache misses;
/// rebuilt in spatial order, the later passes run two to three times faster.
void Remesher::rebuildInSpatialOrder()
{
  // (Deleted elements are skipped, not compacted first: the copy leaves them out anyway.)
  if (this->M.vertices().begin() == this->M.vertices().end())
  {
    return;
  }
  OpenMesh::Vec3d low = this->M.point(*this->M.vertices().begin());
  OpenMesh::Vec3d high = low;
  for (auto v : this->M.vertices())
  {
    low.minimize(this->M.point(v));
    high.maximize(this->M.point(v));
  }
  const double extent = std::max({ high[0] - low[0], high[1] - low[1], high[2] - low[2], 1e-12 });
  LargeArray<std::pair<std::uint64_t, int>> keys;
  keys.reserve(this->M.n_vertices());
  for (auto v : this->M.vertices())
  {
    keys.emplace_back(mortonCode((2097151.0 / extent) * toVec(this->M.point(v) - low)), v.idx());
  }
  std::sort(keys.begin(), keys.end());
  const std::size_t count = keys.size();
  LargeArray<int> newIndex(this->M.n_vertices(), -1);
  Mesh rebuilt;
  OpenMesh::EPropHandleT<bool> featureEdge;
  OpenMesh::VPropHandleT<std::uint8_t> feature;
  OpenMesh::VPropHandleT<std::int32_t> surfaceHint;
  rebuilt.add_property(featureEdge);
  rebuilt.add_property(feature);
  rebuilt.add_property(surfaceHint);
  OpenMesh::VPropHandleT<float> size;
  if (this->adaptive())
  {
    rebuilt.add_property(size);
  }
  // (Room for the splits of the later iterations too.)
  const std::size_t room = count + count / 4;
  reserveMesh(rebuilt, room);
  for (std::size_t rank = 0; rank < count; ++rank)
  {
    const Mesh::VertexHandle old(keys[rank].second);
    newIndex[old.idx()] = static_cast<int>(rank);
    const auto v = rebuilt.add_vertex(this->M.point(old));
    rebuilt.property(feature, v) = this->M.property(this->Feature, old);
    rebuilt.property(surfaceHint, v) = this->M.property(this->SurfaceHint, old);
    if (this->adaptive())
    {
      rebuilt.property(size, v) = this->M.property(this->Size, old);
    }
  }
  LargeArray<std::array<int, 3>> faces;
  faces.reserve(this->M.n_faces());
  for (auto f : this->M.faces())
  {
    std::array<int, 3> corners;
    int k = 0;
    for (auto v : this->M.fv_range(f))
    {
      corners[k++] = newIndex[v.idx()];
    }
    // Start at the smallest index (same orientation).
    while (corners[0] > corners[1] || corners[0] > corners[2])
    {
      corners = { corners[1], corners[2], corners[0] };
    }
    faces.push_back(corners);
  }
  std::sort(faces.begin(), faces.end());
  for (const auto& corners : faces)
  {
    rebuilt.add_face(Mesh::VertexHandle(corners[0]),
      Mesh::VertexHandle(corners[1]),
      Mesh::VertexHandle(corners[2]));
  }
  for (auto e : rebuilt.edges())
  {
    rebuilt.property(featureEdge, e) = false;
  }
  for (auto e : this->M.edges())
  {
    if (this->M.property(this->FeatureEdge, e))
    {
      const auto h = this->M.halfedge_handle(e, 0);
      const auto found =
        rebuilt.find_halfedge(Mesh::VertexHandle(newIndex[this->M.from_vertex_handle(h).idx()]),
          Mesh::VertexHandle(newIndex[this->M.to_vertex_handle(h).idx()]));
      if (found.is_valid())
      {
        rebuilt.property(featureEdge, rebuilt.edge_handle(found)) = true;
      }
    }
  }
  this->M = rebuilt;
  reserveMesh(this->M, room); // (copying gives the properties only the room they fill)
  this->FeatureEdge = featureEdge;
  this->Feature = feature;
  this->SurfaceHint = surfaceHint;
  this->Size = size;
}

} // namespace detail
} // namespace remesh
} // namespace ibc
