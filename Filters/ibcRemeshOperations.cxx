// SPDX-License-Identifier: BSD-3-Clause
// The Remesher's local operations: feature marking, Delaunay and valence flips, splits,
// collapses and tangential relaxation.
#include "ibcRemesher.h"

#include "ibcRemeshGeometry.h"

#include <vtkSMPTools.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace ibc
{
namespace remesh
{
namespace detail
{

/// Splits the edges whose middle lies farther than `share` of the target from the input (the
/// new vertex is projected onto it with the others). Feature and border edges are followed
/// by their own lines and stay as they are.
void Remesher::splitEdgesAwayFromInput(double share)
{
  const double limit = share * this->Opts.targetEdgeLength;
  std::vector<std::pair<int, Vec3>> away; // edges, and where their middle goes
  for (auto e : this->M.edges())
  {
    if (this->M.is_boundary(e) || this->M.property(this->FeatureEdge, e))
    {
      continue;
    }
    const auto h = this->M.halfedge_handle(e, 0);
    const auto from = this->M.from_vertex_handle(h);
    std::int32_t triangle = this->inputTriangleHint(from);
    const Vec3 middle =
      toVec(0.5 * (this->M.point(from) + this->M.point(this->M.to_vertex_handle(h))));
    Vec3 q;
    double distance;
    if (triangle < 0 ||
      !this->walkToNearest(middle, this->Opts.targetEdgeLength, triangle, q, distance) ||
      distance <= limit)
    {
      continue;
    }
    // On a dense input a walk of a few steps may stop short of the nearest triangle: the tree
    // has the last word.
    std::int32_t piece = -1;
    this->Surface.closest(middle, distance, q, distance, &piece);
    if (distance > limit && this->splitStaysShaped(h, q))
    {
      away.emplace_back(e.idx(), q);
    }
  }
  for (const auto& [index, onInput] : away)
  {
    const Mesh::EdgeHandle e(index);
    if (this->M.status(e).deleted())
    {
      continue;
    }
    const auto middle = this->splitEdge(e);
    this->M.set_point(middle, toOM(onInput));
    this->legalizeAround(middle);
  }
  this->timed("project", [&] { this->projectToInput(); });
}

/// Whether splitting the edge of `h` at `middle` leaves its four new triangles with no angle
/// under 25 degrees (a split next to a small feature would make slivers).
bool Remesher::splitStaysShaped(Mesh::HalfedgeHandle h, Vec3 middle) const
{
  const Vec3 a = toVec(this->M.point(this->M.from_vertex_handle(h)));
  const Vec3 b = toVec(this->M.point(this->M.to_vertex_handle(h)));
  for (const auto side : { h, this->M.opposite_halfedge_handle(h) })
  {
    const Vec3 c =
      toVec(this->M.point(this->M.to_vertex_handle(this->M.next_halfedge_handle(side))));
    if (triangleMinimumAngle(a, middle, c) < 25.0 || triangleMinimumAngle(middle, b, c) < 25.0)
    {
      return false;
    }
  }
  return true;
}

void Remesher::markFeatures()
{
  const double cosine = std::cos(this->Opts.featureAngleDegrees * Pi / 180.0);
  for (auto e : this->M.edges())
  {
    bool feature = false;
    if (this->M.is_boundary(e))
    {
      feature = true;
    }
    else
    {
      const auto f0 = this->M.face_handle(this->M.halfedge_handle(e, 0));
      const auto f1 = this->M.face_handle(this->M.halfedge_handle(e, 1));
      feature = (this->faceNormal(f0) | this->faceNormal(f1)) < cosine;
    }
    this->M.property(this->FeatureEdge, e) = feature;
    if (feature && !this->M.is_boundary(e))
    {
      const auto h = this->M.halfedge_handle(e, 0);
      this->Lines.add({ toVec(this->M.point(this->M.from_vertex_handle(h))),
        toVec(this->M.point(this->M.to_vertex_handle(h))) });
      // (The mesh is the input here: its vertex numbers are the input's.)
      this->LineEnds.push_back(
        { this->M.from_vertex_handle(h).idx(), this->M.to_vertex_handle(h).idx() });
    }
  }
  for (auto v : this->M.vertices())
  {
    int count = 0;
    for (auto e : this->M.ve_range(v))
    {
      count += this->M.property(this->FeatureEdge, e) ? 1 : 0;
    }
    this->M.property(this->Feature, v) =
      count == 0 ? Smooth : (count == 2 ? OnFeatureLine : Corner);
  }
}

/// Flips `e` when it is not Delaunay (the angles opposite it add up to more than 180 degrees),
/// its faces turn by less than acos(coplanar), it is no feature or border, and the flipped
/// pair stays convex. Face normals are computed here: faces made by splits have none cached.
bool Remesher::flipIfNotDelaunay(Mesh::EdgeHandle e, double coplanar)
{
  if (this->M.is_boundary(e) || this->M.property(this->FeatureEdge, e))
  {
    return false;
  }
  const auto h0 = this->M.halfedge_handle(e, 0);
  const auto h1 = this->M.halfedge_handle(e, 1);
  const auto a = this->M.point(this->M.to_vertex_handle(h0));
  const auto b = this->M.point(this->M.to_vertex_handle(h1));
  const auto c = this->M.point(this->M.to_vertex_handle(this->M.next_halfedge_handle(h0)));
  const auto d = this->M.point(this->M.to_vertex_handle(this->M.next_halfedge_handle(h1)));
  // Face 0 is (b, a, c) and face 1 is (a, b, d), in the mesh's orientation; the cross
  // products at c and d are their normals, twice their areas long.
  const auto normal0 = (b - c) % (a - c);
  const auto normal1 = (a - d) % (b - d);
  const double area0 = normal0.norm();
  const double area1 = normal1.norm();
  if (area0 <= 0.0 || area1 <= 0.0 || (normal0 | normal1) < coplanar * area0 * area1)
  {
    return false;
  }
  // The angles at c and d add up to more than 180 degrees exactly when their cotangents
  // add up to less than zero.
  const double cotangentSum = ((a - c) | (b - c)) / area0 + ((a - d) | (b - d)) / area1;
  if (cotangentSum >= -1e-9)
  {
    return false;
  }
  const auto n1 = (d - c) % (a - c);
  const auto n2 = (c - d) % (b - d);
  if ((n1 | normal0) <= 0.0 || (n2 | normal0) <= 0.0 || !this->M.is_flip_ok(e))
  {
    return false;
  }
  this->M.flip(e);
  return true;
}

/// One pass of Delaunay flips over the nearly flat parts of the mesh. Valence flips leave
/// the rare triangle with a huge angle where they cannot help, typically three consecutive
/// vertices of a curved feature line joined by a chord (1.5 degrees at the rim of a 3 mm
/// cylinder); flipping the chord makes two good triangles.
void Remesher::flipTowardsDelaunay()
{
  const double nearlyFlat = std::cos(10.0 * Pi / 180.0);
  for (auto e : this->M.edges())
  {
    this->flipIfNotDelaunay(e, nearlyFlat);
  }
}

/// Lawson flips around a vertex just inserted: the edges opposite it that are not Delaunay
/// are flipped, and the flips propagate outward. Without this, bisecting the needles of a
/// CAD export makes new needles, and a dense export explodes into millions of vertices.
void Remesher::legalizeAround(Mesh::VertexHandle inserted)
{
  const double nearlyFlat = std::cos(10.0 * Pi / 180.0);
  std::vector<Mesh::EdgeHandle> pending;
  for (auto h : this->M.voh_range(inserted))
  {
    if (!this->M.is_boundary(h))
    {
      pending.push_back(this->M.edge_handle(this->M.next_halfedge_handle(h)));
    }
  }
  int budget = 64;
  while (!pending.empty() && budget-- > 0)
  {
    const Mesh::EdgeHandle e = pending.back();
    pending.pop_back();
    if (!this->flipIfNotDelaunay(e, nearlyFlat))
    {
      continue;
    }
    for (int side = 0; side < 2; ++side)
    {
      const auto h = this->M.halfedge_handle(e, side);
      pending.push_back(this->M.edge_handle(this->M.next_halfedge_handle(h)));
      pending.push_back(this->M.edge_handle(this->M.prev_halfedge_handle(h)));
    }
  }
}

/// Splits the edges longer than `ratio` times their target, the longest (for its target)
/// first, pass after pass: bisecting the longest edge keeps triangles shaped.
void Remesher::splitLongEdges(double ratio)
{
  LargeArray<std::pair<double, int>> queue;
  for (int pass = 0; pass < 64; ++pass)
  {
    queue.clear();
    for (auto e : this->M.edges())
    {
      const double relative = this->edgeLength(e) / this->edgeTarget(e);
      if (relative > ratio)
      {
        queue.emplace_back(relative, e.idx());
      }
    }
    if (queue.empty())
    {
      break;
    }
    std::sort(queue.begin(), queue.end(), std::greater<>());
    for (const auto& entry : queue)
    {
      const Mesh::EdgeHandle e(entry.second);
      if (this->edgeLength(e) <= ratio * this->edgeTarget(e))
      {
        continue;
      }
      this->legalizeAround(this->splitEdge(e));
    }
  }
}

Mesh::VertexHandle Remesher::splitEdge(Mesh::EdgeHandle e)
{
  {
    const auto h = this->M.halfedge_handle(e, 0);
    const auto v0 = this->M.from_vertex_handle(h);
    const auto v1 = this->M.to_vertex_handle(h);
    const bool feature = this->M.property(this->FeatureEdge, e);
    const auto middle = this->M.add_vertex(0.5 * (this->M.point(v0) + this->M.point(v1)));
    this->M.split(e, middle);
    ++this->TopologyChanges;
    this->M.property(this->SurfaceHint, middle) = this->M.property(this->SurfaceHint, v0);
    this->M.property(this->Feature, middle) = feature ? OnFeatureLine : Smooth;
    if (this->adaptive())
    {
      // Until the next projection finds it on the input.
      this->M.property(this->Size, middle) =
        0.5f * (this->M.property(this->Size, v0) + this->M.property(this->Size, v1));
    }
    for (auto edge : this->M.ve_range(middle))
    {
      const auto he = this->M.halfedge_handle(edge, 0);
      const auto other = this->M.from_vertex_handle(he) == middle ? this->M.to_vertex_handle(he)
                                                                  : this->M.from_vertex_handle(he);
      this->M.property(this->FeatureEdge, edge) = feature && (other == v0 || other == v1);
    }
    return middle;
  }
}

/// Collapses the edges shorter than `low` times their target where no edge longer than
/// `high` times it appears.
void Remesher::collapseShortEdges(double low, double high)
{
  for (std::size_t i = 0; i < this->M.n_edges(); ++i)
  {
    this->countCollapses(this->collapseIfShort(Mesh::EdgeHandle(static_cast<int>(i)), low, high));
  }
}

/// The same in parts at once, for thinning a dense input: the vertices are cut into four
/// runs of their (spatial) order, and the threads each collapse the edges
/// whose ends both have no vertex of another run within two rings. A collapse changes only the
/// rings of its two ends, and its new edges join its kept end to neighbours of the removed
/// one, so no thread ever touches a vertex, edge or face another one does (the vertices
/// next to a run's inside all lie in that run). The edges near the cuts follow serially.
/// Each part's result depends on nothing the others do: the result is the same every run.
void Remesher::collapseShortEdgesInParts(double low, double high)
{
  // A fixed number of parts, whatever the number of threads: the same result on every
  // machine and on every MPI rank count.
  constexpr int parts = 4;
  const auto count = static_cast<std::int64_t>(this->M.n_vertices());
  if (count < 10000)
  {
    this->collapseShortEdges(low, high);
    return;
  }
  auto partOf = [&](Mesh::VertexHandle v)
  { return static_cast<std::int8_t>(static_cast<std::int64_t>(v.idx()) * parts / count); };
  // -1: within two rings of another part's vertex.
  std::vector<std::int8_t> vertexPart(count);
  std::vector<char> nextToCut(count, 0);
  for (auto e : this->M.edges())
  {
    const auto h = this->M.halfedge_handle(e, 0);
    const auto a = this->M.from_vertex_handle(h);
    const auto b = this->M.to_vertex_handle(h);
    if (partOf(a) != partOf(b))
    {
      nextToCut[a.idx()] = nextToCut[b.idx()] = 1;
    }
  }
  for (auto v : this->M.all_vertices())
  {
    vertexPart[v.idx()] = nextToCut[v.idx()] ? -1 : partOf(v);
  }
  for (auto v : this->M.vertices())
  {
    if (nextToCut[v.idx()])
    {
      for (auto neighbour : this->M.vv_range(v))
      {
        vertexPart[neighbour.idx()] = -1;
      }
    }
  }
  std::vector<std::int8_t> edgePart(this->M.n_edges(), -1);
  for (auto e : this->M.edges())
  {
    const auto h = this->M.halfedge_handle(e, 0);
    const std::int8_t a = vertexPart[this->M.from_vertex_handle(h).idx()];
    const std::int8_t b = vertexPart[this->M.to_vertex_handle(h).idx()];
    edgePart[e.idx()] = a == b ? a : -1;
  }
  std::vector<std::size_t> collapsed(parts, 0);
  auto thinPart = [&](int part)
  {
    for (std::size_t i = 0; i < edgePart.size(); ++i)
    {
      if (edgePart[i] == part)
      {
        collapsed[part] +=
          this->collapseIfShort(Mesh::EdgeHandle(static_cast<int>(i)), low, high) ? 1 : 0;
      }
    }
  };
  vtkSMPTools::For(0,
    parts,
    1,
    [&](vtkIdType begin, vtkIdType end)
    {
      for (vtkIdType part = begin; part < end; ++part)
      {
        thinPart(static_cast<int>(part));
      }
    });
  for (const std::size_t n : collapsed)
  {
    this->countCollapses(n);
  }
  for (std::size_t i = 0; i < edgePart.size(); ++i)
  {
    if (edgePart[i] < 0)
    {
      this->countCollapses(this->collapseIfShort(Mesh::EdgeHandle(static_cast<int>(i)), low, high));
    }
  }
}

/// Collapses `e` when it is shorter than `lowRatio` times its target and the collapse keeps
/// the mesh in shape (see ringStaysShaped and the feature rules); whether it did.
bool Remesher::collapseIfShort(Mesh::EdgeHandle e, double lowRatio, double highRatio)
{
  if (this->M.status(e).deleted())
  {
    return false;
  }
  const double target = this->edgeTarget(e);
  if (this->edgeLength(e) >= lowRatio * target)
  {
    return false;
  }
  const double high = highRatio * target;
  for (int side = 0; side < 2; ++side)
  {
    const auto h = this->M.halfedge_handle(e, side);
    const auto from = this->M.from_vertex_handle(h); // removed
    const auto to = this->M.to_vertex_handle(h);     // kept
    if (this->locked(from))
    {
      continue;
    }
    const auto fromType = this->M.property(this->Feature, from);
    const auto toType = this->M.property(this->Feature, to);
    const bool featureEdge = this->M.property(this->FeatureEdge, e);
    // A feature vertex only slides along its feature line; a smooth one may join anything.
    if (fromType == OnFeatureLine && !(featureEdge && toType != Smooth))
    {
      continue;
    }
    if (this->M.is_boundary(from) && !this->M.is_boundary(to))
    {
      continue;
    }
    // Into the edge's midpoint when both ends may move (shorter new edges than into an
    // end); no new long edge, and no face turned over.
    const bool toMovable = !this->locked(to) && toType == fromType;
    const auto merged =
      toMovable ? 0.5 * (this->M.point(from) + this->M.point(to)) : this->M.point(to);
    // The topological check last: it is the most expensive.
    const bool acceptable = this->ringStaysShaped(from, to, merged, high, true) &&
      this->ringStaysShaped(to, from, merged, high, toMovable) && this->M.is_collapse_ok(h);
    if (!acceptable)
    {
      continue;
    }
    if (this->adaptive())
    {
      this->M.property(this->Size, to) = static_cast<float>(target);
    }
    this->M.collapse(h);
    this->M.set_point(to, merged);
    return true;
  }
  return false;
}

/// Whether collapsing `end` and `partner` into `target` keeps the ring of `end` in shape: no
/// neighbour farther than `high` from the target, and (when `end` moves) none of its faces
/// that stay (those without `partner`) turned over. One pass around the ring, with normals
/// from the current corners.
bool Remesher::ringStaysShaped(Mesh::VertexHandle end,
  Mesh::VertexHandle partner,
  const OpenMesh::Vec3d& target,
  double high,
  bool endMoves) const
{
  const double highSquared = high * high;
  const auto& position = this->M.point(end);
  for (auto h : this->M.voh_range(end))
  {
    const auto neighbour = this->M.to_vertex_handle(h);
    if (neighbour == partner)
    {
      continue;
    }
    const auto& neighbourPoint = this->M.point(neighbour);
    if ((neighbourPoint - target).sqrnorm() > highSquared)
    {
      return false;
    }
    const auto face = this->M.face_handle(h);
    if (!endMoves || !face.is_valid())
    {
      continue;
    }
    const auto next = this->M.to_vertex_handle(this->M.next_halfedge_handle(h));
    if (next == partner)
    {
      continue; // this face disappears with the edge
    }
    const auto& nextPoint = this->M.point(next);
    const auto normalBefore = (neighbourPoint - position) % (nextPoint - position);
    const double lengthBefore = normalBefore.norm();
    if (lengthBefore <= 0.0)
    {
      continue;
    }
    const auto normalAfter = (neighbourPoint - target) % (nextPoint - target);
    if ((normalAfter | normalBefore) <= 0.2 * normalAfter.norm() * lengthBefore)
    {
      return false;
    }
  }
  return true;
}

void Remesher::equalizeValences()
{
  // Valences counted once and kept up to date through the flips: OpenMesh's valence() walks
  // the ring each time.
  // (Every edge has one halfedge into each of its ends, borders included.)
  std::vector<int> valence(this->M.n_vertices(), 0);
  for (auto h : this->M.halfedges())
  {
    ++valence[this->M.to_vertex_handle(h).idx()];
  }
  for (auto e : this->M.edges())
  {
    if (this->M.is_boundary(e) || this->M.property(this->FeatureEdge, e))
    {
      continue;
    }
    const auto h0 = this->M.halfedge_handle(e, 0);
    const auto h1 = this->M.halfedge_handle(e, 1);
    const auto a = this->M.to_vertex_handle(h0);
    const auto b = this->M.to_vertex_handle(h1);
    const auto c = this->M.to_vertex_handle(this->M.next_halfedge_handle(h0));
    const auto d = this->M.to_vertex_handle(this->M.next_halfedge_handle(h1));
    const int targetA = this->targetValence(a);
    const int targetB = this->targetValence(b);
    const int targetC = this->targetValence(c);
    const int targetD = this->targetValence(d);
    const int va = valence[a.idx()];
    const int vb = valence[b.idx()];
    const int vc = valence[c.idx()];
    const int vd = valence[d.idx()];
    const int before = std::abs(va - targetA) + std::abs(vb - targetB) + std::abs(vc - targetC) +
      std::abs(vd - targetD);
    const int after = std::abs(va - 1 - targetA) + std::abs(vb - 1 - targetB) +
      std::abs(vc + 1 - targetC) + std::abs(vd + 1 - targetD);
    if (after >= before)
    {
      continue;
    }
    // Do not fold: the new faces (c, d, a) and (d, c, b) must face like the old ones.
    const auto pa = this->M.point(a);
    const auto pb = this->M.point(b);
    const auto pc = this->M.point(c);
    const auto pd = this->M.point(d);
    const auto oldNormal =
      this->faceNormal(this->M.face_handle(h0)) + this->faceNormal(this->M.face_handle(h1));
    const auto n1 = (pd - pc) % (pa - pc);
    const auto n2 = (pc - pd) % (pb - pd);
    if ((n1 | oldNormal) <= 0.0 || (n2 | oldNormal) <= 0.0 ||
      (n1 | n2) <= 0.5 * n1.norm() * n2.norm() || !this->M.is_flip_ok(e))
    {
      continue;
    }
    // With adaptive sizing, no edge too long for where it lies: across a curved rim it would
    // cut the corner.
    if (this->adaptive() &&
      (pc - pd).norm() > SplitAbove * std::min(this->sizeOf(c), this->sizeOf(d)))
    {
      continue;
    }
    this->M.flip(e);
    --valence[a.idx()];
    --valence[b.idx()];
    ++valence[c.idx()];
    ++valence[d.idx()];
  }
}

void Remesher::relaxTangentially()
{
  std::vector<OpenMesh::Vec3d> moved(this->M.n_vertices());
  // Each vertex reads its ring and writes only its own entry: threaded.
  vtkSMPTools::For(0,
    static_cast<vtkIdType>(this->M.n_vertices()),
    [&](vtkIdType begin, vtkIdType end)
    {
      for (vtkIdType i = begin; i < end; ++i)
      {
        this->relaxVertex(Mesh::VertexHandle(static_cast<int>(i)), moved);
      }
    });
  for (auto v : this->M.vertices())
  {
    this->M.set_point(v, moved[v.idx()]);
  }
}

void Remesher::relaxVertex(Mesh::VertexHandle v, std::vector<OpenMesh::Vec3d>& moved) const
{
  moved[v.idx()] = this->M.point(v);
  if (this->M.status(v).deleted() || this->locked(v))
  {
    return;
  }
  const auto p = this->M.point(v);
  if (this->M.property(this->Feature, v) == OnFeatureLine)
  {
    // Along the feature line only: towards the middle of its two feature neighbours.
    OpenMesh::Vec3d sum(0, 0, 0);
    int count = 0;
    for (auto h : this->M.voh_range(v))
    {
      if (this->M.property(this->FeatureEdge, this->M.edge_handle(h)))
      {
        sum += this->M.point(this->M.to_vertex_handle(h));
        ++count;
      }
    }
    if (count == 2)
    {
      moved[v.idx()] = 0.5 * sum;
    }
    return;
  }
  // The area-weighted centroid of the 1-ring's faces, moved within the tangent plane.
  OpenMesh::Vec3d centroid(0, 0, 0);
  OpenMesh::Vec3d normal(0, 0, 0); // area-weighted, from the same faces
  double weight = 0.0;
  for (auto h : this->M.voh_range(v))
  {
    if (!this->M.face_handle(h).is_valid())
    {
      continue; // the gap of a border vertex
    }
    const OpenMesh::Vec3d corners[3] = { p,
      this->M.point(this->M.to_vertex_handle(h)),
      this->M.point(this->M.to_vertex_handle(this->M.next_halfedge_handle(h))) };
    const auto doubleAreaNormal = (corners[1] - corners[0]) % (corners[2] - corners[0]);
    normal += doubleAreaNormal;
    double area = 0.5 * doubleAreaNormal.norm();
    if (this->adaptive())
    {
      // Area per target area: otherwise the big triangles of the coarse side pull the vertex
      // away from a fine place and stretch its short edges.
      const double size =
        (this->sizeOf(v) + this->sizeOf(this->M.to_vertex_handle(h)) +
          this->sizeOf(this->M.to_vertex_handle(this->M.next_halfedge_handle(h)))) /
        3.0;
      area /= size * size;
    }
    centroid += area * (corners[0] + corners[1] + corners[2]) / 3.0;
    weight += area;
  }
  if (weight <= 0.0)
  {
    return;
  }
  centroid /= weight;
  const double normalLength = normal.norm();
  if (normalLength <= 0.0)
  {
    return;
  }
  const auto n = normal / normalLength;
  const auto step = centroid - p;
  moved[v.idx()] = p + step - (step | n) * n;
}

} // namespace detail
} // namespace remesh
} // namespace ibc
