// SPDX-License-Identifier: BSD-3-Clause
// Measures of a remeshed surface: area, the edge length for a point count, and the quality
// (angles, edge lengths, Hausdorff distance to the input, area change, open edges).
#include "ibcRemesh.h"

#include "ibcRemeshArrays.h"
#include "ibcRemeshGeometry.h"

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

using namespace detail;

double surfaceArea(const TriangleMesh& mesh)
{
  double area = 0.0;
  for (const auto& t : mesh.triangles)
  {
    area += 0.5 *
      length(cross(mesh.points[t[1]] - mesh.points[t[0]], mesh.points[t[2]] - mesh.points[t[0]]));
  }
  return area;
}

double edgeLengthForPointCount(double area, std::int64_t points)
{
  // V vertices make about 2V equilateral triangles of area sqrt(3)/4 L^2.
  return points > 0 ? std::sqrt(2.0 * area / (std::sqrt(3.0) * static_cast<double>(points))) : 1.0;
}

Quality measureQuality(const TriangleMesh& output, const TriangleMesh& input)
{
  Quality quality;
  quality.minimumAngle = 180.0;
  double angleSum = 0.0;
  std::int64_t above = 0;
  LargeArray<std::pair<std::int64_t, std::int64_t>> edgeUses;
  edgeUses.reserve(3 * output.triangles.size());
  for (const auto& t : output.triangles)
  {
    const double angle =
      triangleMinimumAngle(output.points[t[0]], output.points[t[1]], output.points[t[2]]);
    quality.minimumAngle = std::min(quality.minimumAngle, angle);
    angleSum += angle;
    above += angle >= 30.0 ? 1 : 0;
    for (int e = 0; e < 3; ++e)
    {
      edgeUses.emplace_back(std::min(t[e], t[(e + 1) % 3]), std::max(t[e], t[(e + 1) % 3]));
    }
  }
  const double triangles = static_cast<double>(std::max<std::size_t>(1, output.triangles.size()));
  quality.meanMinimumAngle = angleSum / triangles;
  quality.shareAbove30 = above / triangles;
  // Each edge once, with the number of triangles that use it.
  std::sort(edgeUses.begin(), edgeUses.end());
  double sum = 0.0;
  double sumSquares = 0.0;
  std::size_t edgeCount = 0;
  for (std::size_t k = 0; k < edgeUses.size();)
  {
    std::size_t next = k + 1;
    while (next < edgeUses.size() && edgeUses[next] == edgeUses[k])
    {
      ++next;
    }
    const auto& edge = edgeUses[k];
    const double l = length(output.points[edge.second] - output.points[edge.first]);
    sum += l;
    sumSquares += l * l;
    quality.boundaryEdges += next - k == 1 ? 1 : 0;
    quality.nonManifoldEdges += next - k > 2 ? 1 : 0;
    ++edgeCount;
    k = next;
  }
  const double edges = static_cast<double>(std::max<std::size_t>(1, edgeCount));
  const double mean = sum / edges;
  quality.meanEdgeLength = mean;
  quality.edgeLengthCV =
    mean > 0.0 ? std::sqrt(std::max(0.0, sumSquares / edges - mean * mean)) / mean : 0.0;
  // Hausdorff distance at the vertices, both ways, threaded. The trees cut triangles into
  // pieces of up to sixteen mean edges, as the remesher's own tree does: finer pieces made the
  // tree of a dense input take longer than the remeshing.
  const double reach = 20.0 * std::max(mean, 1e-3);
  // Both surfaces lie within a small fraction of an edge of each other: a first search that
  // close lets the tree prune almost everything (five times faster than starting at `reach`).
  const double near = std::max(mean, 1e-3);
  const ClosestPointFinder toInput(input, 8.0 * std::max(mean, 1e-3));
  const ClosestPointFinder toOutput(output, 8.0 * std::max(mean, 1e-3));
  auto oneWay = [reach, near](const std::vector<Vec3>& points, const ClosestPointFinder& finder)
  {
    std::vector<double> distance(points.size(), 0.0);
    vtkSMPTools::For(0,
      static_cast<vtkIdType>(points.size()),
      [&](vtkIdType begin, vtkIdType end)
      {
        for (vtkIdType i = begin; i < end; ++i)
        {
          Vec3 q;
          double d;
          const bool found =
            finder.closest(points[i], near, q, d) || finder.closest(points[i], reach, q, d);
          distance[i] = found ? d : reach;
        }
      });
    return distance.empty() ? 0.0 : *std::max_element(distance.begin(), distance.end());
  };
  quality.outputToInput = oneWay(output.points, toInput);
  quality.inputToOutput = oneWay(input.points, toOutput);
  quality.hausdorff = std::max(quality.outputToInput, quality.inputToOutput);
  const double inputArea = surfaceArea(input);
  quality.areaChangePercent =
    inputArea > 0.0 ? 100.0 * (surfaceArea(output) - inputArea) / inputArea : 0.0;
  return quality;
}

} // namespace remesh
} // namespace ibc
