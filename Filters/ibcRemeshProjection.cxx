// SPDX-License-Identifier: BSD-3-Clause
// The Remesher's search structures over the input (built on a thread of their own) and the
// projection of the vertices onto the input surface and its feature lines.
#include "ibcRemesher.h"

#include "ibcRemeshAdjacency.h"
#include "ibcRemeshGeometry.h"

#include <vtkSMPTools.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace ibc
{
namespace remesh
{
namespace detail
{

/// The projection target for searches: the input cut into pieces no longer than sixteen
/// times the target (the same surface exactly), so that a CAD export's huge fan triangles and
/// slivers do not overlap every box of the tree. Runs on a thread of its own while the first
/// splits and collapses run (it reads only the input).
void Remesher::buildSurfaceTree()
{
  const TriangleMesh& input = this->Input;
  // The input's triangles around each of its vertices (compressed rows) and across each of
  // its edges, for walking from a vertex's last nearest triangle to its new one.
  this->CornerStart.assign(input.points.size() + 1, 0);
  for (const auto& t : input.triangles)
  {
    for (int corner = 0; corner < 3; ++corner)
    {
      ++this->CornerStart[t[corner] + 1];
    }
  }
  for (std::size_t v = 0; v < input.points.size(); ++v)
  {
    this->CornerStart[v + 1] += this->CornerStart[v];
  }
  this->CornerTriangles.resize(this->CornerStart.back());
  {
    LargeArray<std::int64_t> fill(this->CornerStart.begin(), this->CornerStart.end() - 1);
    for (std::size_t index = 0; index < input.triangles.size(); ++index)
    {
      for (int corner = 0; corner < 3; ++corner)
      {
        this->CornerTriangles[fill[input.triangles[index][corner]]++] =
          static_cast<std::int32_t>(index);
      }
    }
  }
  std::int64_t nonManifold = 0;
  this->EdgeNeighbour = findEdgeNeighbours(input.points.size(), input.triangles, nonManifold);

  buildBisectedTree(input, this->TreePieceLength, this->Surface, this->PieceSource);
}

void Remesher::waitForSurfaceTree()
{
  if (this->SurfaceBuilder.joinable())
  {
    this->SurfaceBuilder.join();
  }
}

/// Closest point on the input surface, walking from the input triangle this vertex (or the
/// vertex it was split from) was nearest last time, else searching the tree; remembers the
/// new one.
bool Remesher::projectOntoSurface(Mesh::VertexHandle v,
  Vec3 p,
  double near,
  double reach,
  Vec3& q,
  double& distance)
{
  std::int32_t& hint = this->M.property(this->SurfaceHint, v);
  if (hint <= AtInputVertex)
  {
    const std::size_t vertex = AtInputVertex - hint;
    if (vertex + 1 >= this->CornerStart.size())
    {
      return false;
    }
    const std::int64_t first = this->CornerStart[vertex];
    hint = first < this->CornerStart[vertex + 1] ? this->CornerTriangles[first] : -1;
  }
  if (hint >= 0 && this->walkToNearest(p, near, hint, q, distance))
  {
    return true;
  }
  std::int32_t nearest = -1;
  const bool found = this->Surface.closest(p, near, q, distance, &nearest) ||
    this->Surface.closest(p, reach, q, distance, &nearest);
  if (found)
  {
    hint = this->PieceSource[nearest];
  }
  return found;
}

/// Closest point on the input's feature lines; with adaptive sizing, the target there.
bool Remesher::projectOntoFeatureLine(Mesh::VertexHandle v,
  Vec3 p,
  double near,
  double reach,
  Vec3& q)
{
  double distance;
  std::int32_t segment = -1;
  const bool found = this->Lines.closest(p, near, q, distance, &segment) ||
    this->Lines.closest(p, reach, q, distance, &segment);
  if (found && this->adaptive() && segment >= 0)
  {
    this->M.property(this->Size, v) = static_cast<float>(this->sizeOnFeatureSegment(segment, q));
  }
  return found;
}

/// From the input triangle a vertex was nearest last time, walks over the input to the
/// nearest one: across the edge the closest point lies on, or around the vertex it lies at,
/// while that comes nearer. Vertices move little between projections, so a few steps find
/// the nearest triangle without searching the tree. Accepted only within `near` (a local
/// minimum farther away could be the wrong side of a thin part).
bool Remesher::walkToNearest(Vec3 p,
  double near,
  std::int32_t& triangle,
  Vec3& q,
  double& distance) const
{
  const auto& triangles = this->Input.triangles;
  const auto& points = this->Input.points;
  auto evaluate = [&](std::int32_t index, ClosestFeature& feature)
  {
    const auto& t = triangles[index];
    return closestOnTriangle(p, points[t[0]], points[t[1]], points[t[2]], feature);
  };
  std::int32_t current = triangle;
  ClosestFeature feature;
  Vec3 best = evaluate(current, feature);
  double bestSquared = dot(best - p, best - p);
  std::int64_t fanDone = -1;
  // A walk that needs more steps has far to go (a vertex made by splitting a long CAD
  // sliver starts at one end of it): the tree finds that one sooner.
  for (int step = 0; step < 16 && feature.kind != ClosestFeature::Inside; ++step)
  {
    // Across the edge the closest point lies on; at a corner, across either edge at it first
    // (cheap), and around the whole corner only when neither comes nearer.
    std::int32_t next = -1;
    double nextSquared = bestSquared;
    Vec3 nextPoint;
    ClosestFeature nextFeature;
    auto consider = [&](std::int32_t candidate)
    {
      if (candidate < 0 || candidate == current)
      {
        return;
      }
      ClosestFeature candidateFeature;
      const Vec3 c = evaluate(candidate, candidateFeature);
      const double squared = dot(c - p, c - p);
      if (squared < nextSquared)
      {
        nextSquared = squared;
        nextPoint = c;
        next = candidate;
        nextFeature = candidateFeature;
      }
    };
    const std::int32_t* across = &this->EdgeNeighbour[3 * static_cast<std::size_t>(current)];
    if (feature.kind == ClosestFeature::OnEdge)
    {
      consider(across[feature.index]);
    }
    else
    {
      // Around the whole corner at once: stepping across one edge at a time would take as
      // many steps as the corner has triangles (CAD fans have hundreds).
      const std::int64_t vertex = triangles[current][feature.index];
      if (vertex == fanDone)
      {
        break;
      }
      fanDone = vertex;
      for (std::int64_t k = this->CornerStart[vertex]; k < this->CornerStart[vertex + 1]; ++k)
      {
        consider(this->CornerTriangles[k]);
      }
    }
    if (next < 0)
    {
      break;
    }
    current = next;
    best = nextPoint;
    bestSquared = nextSquared;
    feature = nextFeature;
  }
  if (bestSquared > near * near)
  {
    return false;
  }
  triangle = current;
  q = best;
  distance = std::sqrt(bestSquared);
  return true;
}

void Remesher::projectToInput()
{
  const double reach = 4.0 * this->Opts.targetEdgeLength;
  const auto count = static_cast<vtkIdType>(this->M.n_vertices());
  this->timed("wait for tree", [&] { this->waitForSurfaceTree(); });
  // The queries are independent reads of the trees: threaded, written back afterwards.
  std::vector<OpenMesh::Vec3d> projected(static_cast<std::size_t>(count));
  vtkSMPTools::For(0,
    count,
    [&](vtkIdType begin, vtkIdType end)
    {
      for (vtkIdType i = begin; i < end; ++i)
      {
        const Mesh::VertexHandle v(static_cast<int>(i));
        projected[i] = this->M.point(v);
        if (this->M.status(v).deleted() || this->locked(v))
        {
          continue;
        }
        const Vec3 p = toVec(this->M.point(v));
        Vec3 q;
        double distance;
        // Relaxation moves vertices a fraction of an edge off the surface: a tight first
        // search radius lets the tree prune almost everything.
        const double near = 0.3 * this->sizeOf(v);
        const bool onLine =
          this->M.property(this->Feature, v) == OnFeatureLine && !this->Lines.empty();
        const bool found = onLine ? this->projectOntoFeatureLine(v, p, near, reach, q)
                                  : this->projectOntoSurface(v, p, near, reach, q, distance);
        if (found)
        {
          projected[i] = toOM(q);
          const std::int32_t hint = this->M.property(this->SurfaceHint, v);
          if (!onLine && this->adaptive() && hint >= 0)
          {
            this->M.property(this->Size, v) =
              static_cast<float>(this->sizeOnInputTriangle(hint, q));
          }
        }
      }
    });
  for (auto v : this->M.vertices())
  {
    this->M.set_point(v, projected[v.idx()]);
  }
}

} // namespace detail
} // namespace remesh
} // namespace ibc
