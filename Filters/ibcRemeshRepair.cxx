// SPDX-License-Identifier: BSD-3-Clause
// repairSurface: duplicate points, degenerate and repeated triangles, orientation.
#include "ibcRemesh.h"

#include "ibcNormalProbe.h"
#include "ibcRemeshAdjacency.h"
#include "ibcRemeshArrays.h"
#include "ibcRemeshGeometry.h"
#include "ibcVector.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ibc
{
namespace remesh
{

using namespace detail;

namespace
{
/// The input's points without exact duplicates, numbered along a Morton (Z-order) curve, ties
/// by coordinates; `merged` maps each input point to its number.
std::vector<Vec3> mergeDuplicatePoints(const TriangleMesh& input, LargeArray<std::int64_t>& merged)
{
  std::vector<Vec3> points;
  // Exact duplicate points. The points are numbered along a Morton (Z-order) curve, ties by
  // coordinates, and the triangles sorted below, so that the same surface gives the same
  // remeshing whatever its input order (an STL, or the pieces of a distributed surface gathered
  // from the ranks); equal points end up side by side, and points near in space near in memory,
  // which the remesher's passes over this mesh need.
  const std::size_t pointCount = input.points.size();
  auto coordinates = [&input](std::int64_t i)
  {
    const Vec3& p = input.points[i];
    return std::array<double, 3>{ p.x, p.y, p.z };
  };
  Vec3 low;
  Vec3 high;
  if (pointCount > 0)
  {
    low = high = input.points[0];
  }
  for (const Vec3& p : input.points)
  {
    low = { std::min(low.x, p.x), std::min(low.y, p.y), std::min(low.z, p.z) };
    high = { std::max(high.x, p.x), std::max(high.y, p.y), std::max(high.z, p.z) };
  }
  const Vec3 extent = high - low;
  const double scale = 2097151.0 / std::max({ extent.x, extent.y, extent.z, 1e-12 });
  LargeArray<std::pair<std::uint64_t, std::int64_t>> curve(pointCount);
  for (std::size_t i = 0; i < pointCount; ++i)
  {
    curve[i] = { mortonCode(scale * (input.points[i] - low)), static_cast<std::int64_t>(i) };
  }
  std::sort(curve.begin(), curve.end());
  // Points in one cell of the curve (duplicates, mostly) by their coordinates.
  for (std::size_t k = 0; k < pointCount;)
  {
    std::size_t end = k + 1;
    while (end < pointCount && curve[end].first == curve[k].first)
    {
      ++end;
    }
    if (end - k > 1)
    {
      std::sort(curve.begin() + k,
        curve.begin() + end,
        [&](const auto& a, const auto& b)
        { return coordinates(a.second) < coordinates(b.second); });
    }
    k = end;
  }
  merged.assign(pointCount, 0);
  points.reserve(pointCount);
  adviseHugePages(points);
  for (std::size_t k = 0; k < pointCount; ++k)
  {
    const std::int64_t i = curve[k].second;
    if (k == 0 || coordinates(curve[k - 1].second) != coordinates(i))
    {
      points.push_back(input.points[i]);
    }
    merged[i] = static_cast<std::int64_t>(points.size()) - 1;
  }
  return points;
}

/// The triangles over the merged points, without degenerate and repeated ones, in canonical
/// order; counts the dropped ones in `report`.
std::vector<probe::Triangle> canonicalTriangles(const TriangleMesh& input,
  const LargeArray<std::int64_t>& merged,
  const std::vector<Vec3>& points,
  Repair& report)
{
  std::vector<probe::Triangle> triangles;
  // Degenerate and repeated triangles (of repeated ones, the first is kept), in one sort by
  // their corners in increasing order: that order, with each triangle starting at its smallest
  // corner (same orientation), is the canonical order of the result.
  const std::size_t triangleCount = input.triangles.size();
  LargeArray<std::pair<probe::Triangle, std::size_t>> keys(triangleCount);
  for (std::size_t index = 0; index < triangleCount; ++index)
  {
    const auto& t = input.triangles[index];
    keys[index] = { { merged[t[0]], merged[t[1]], merged[t[2]] }, index };
    std::sort(keys[index].first.begin(), keys[index].first.end());
  }
  std::sort(keys.begin(), keys.end());
  triangles.reserve(triangleCount);
  adviseHugePages(triangles);
  for (std::size_t k = 0; k < triangleCount; ++k)
  {
    const auto& corners = keys[k].first;
    if (corners[0] == corners[1] || corners[1] == corners[2] ||
      (k > 0 && corners == keys[k - 1].first))
    {
      ++report.droppedTriangles;
      continue;
    }
    const auto& t = input.triangles[keys[k].second];
    probe::Triangle m = { merged[t[0]], merged[t[1]], merged[t[2]] };
    const double area = length(cross(points[m[1]] - points[m[0]], points[m[2]] - points[m[0]]));
    if (area <= 1e-14)
    {
      ++report.droppedTriangles;
      continue;
    }
    while (m[0] > m[1] || m[0] > m[2])
    {
      m = { m[1], m[2], m[0] };
    }
    triangles.push_back(m);
  }

  return triangles;
}

/// Turns the triangles to one consistent orientation, then outward by the signed volume;
/// counts the turned ones in `report`. `across` holds each triangle's edge neighbours.
void orientOutward(const std::vector<Vec3>& points,
  std::vector<probe::Triangle>& triangles,
  LargeArray<std::int32_t>& across,
  Repair& report)
{
  // Orientation: consistent (a breadth-first walk over the edges turns each neighbour that runs
  // an edge the same way), then outward by the signed volume.
  LargeArray<char> flipped(triangles.size(), 0);
  LargeArray<char> visited(triangles.size(), 0);
  LargeArray<std::int32_t> queue;
  queue.reserve(triangles.size());
  for (std::size_t seed = 0; seed < triangles.size(); ++seed)
  {
    if (visited[seed])
    {
      continue;
    }
    visited[seed] = 1;
    queue.assign(1, static_cast<std::int32_t>(seed));
    for (std::size_t next = 0; next < queue.size(); ++next)
    {
      const std::int32_t t = queue[next];
      for (int k = 0; k < 3; ++k)
      {
        const std::int32_t other = across[3 * static_cast<std::size_t>(t) + k];
        if (other < 0 || visited[other])
        {
          continue;
        }
        visited[other] = 1;
        queue.push_back(other);
        const std::int64_t a = triangles[t][k];
        const std::int64_t b = triangles[t][(k + 1) % 3];
        probe::Triangle& neighbour = triangles[other];
        for (int j = 0; j < 3; ++j)
        {
          if (neighbour[j] == a && neighbour[(j + 1) % 3] == b)
          {
            // Runs a -> b too: turn it. Its edges 0 and 2 trade places (edge 1 stays).
            std::swap(neighbour[1], neighbour[2]);
            std::swap(across[3 * static_cast<std::size_t>(other)],
              across[3 * static_cast<std::size_t>(other) + 2]);
            flipped[other] = 1;
            break;
          }
        }
      }
    }
  }
  Vec3 centroid;
  for (const Vec3& p : points)
  {
    centroid = centroid + p;
  }
  if (!points.empty())
  {
    centroid = (1.0 / points.size()) * centroid;
  }
  const bool inward = probe::signedVolume(points, triangles, centroid) < 0.0;
  for (std::size_t t = 0; t < triangles.size(); ++t)
  {
    if (inward)
    {
      std::swap(triangles[t][1], triangles[t][2]);
    }
    report.flippedTriangles += (flipped[t] != 0) != inward ? 1 : 0;
  }
}
} // namespace

TriangleMesh repairSurface(const TriangleMesh& input, Repair& report)
{
  TriangleMesh result;
  if (const std::int64_t notFinite = countNonFinite(input.points))
  {
    report.problem = nonFinitePointsProblem(notFinite);
    return result;
  }
  LargeArray<std::int64_t> merged;
  result.points = mergeDuplicatePoints(input, merged);
  report.mergedPoints = static_cast<std::int64_t>(input.points.size() - result.points.size());
  // (see MaximumSize)
  if (result.points.size() > MaximumSize || input.triangles.size() > MaximumSize)
  {
    report.problem = "the surface has " + std::to_string(input.triangles.size()) +
      " triangles: too many to remesh (at most 500 million)";
    result.triangles.clear();
    return result;
  }

  result.triangles = canonicalTriangles(input, merged, result.points, report);

  // Non-manifold edges cannot be remeshed: refuse them with the count.
  std::int64_t nonManifold = 0;
  LargeArray<std::int32_t> across =
    findEdgeNeighbours(result.points.size(), result.triangles, nonManifold);
  if (nonManifold > 0)
  {
    report.problem = std::to_string(nonManifold) +
      " edges are shared by more than two triangles (a non-manifold surface); clean it first, "
      "for example with Extract Surface and Clean, or fix it in the CAD export";
    return result;
  }

  orientOutward(result.points, result.triangles, across, report);
  return result;
}

} // namespace remesh
} // namespace ibc
