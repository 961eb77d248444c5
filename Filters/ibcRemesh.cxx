// SPDX-License-Identifier: BSD-3-Clause
// remeshSurface: the sizing, then the Remesher (ibcRemesher.h). The rest of ibcRemesh.h is in
// ibcRemeshRepair.cxx, ibcRemeshQuality.cxx and ibcPrimitiveTree.cxx (ClosestPointFinder).
#include "ibcRemesh.h"

#include "ibcRemeshArrays.h"
#include "ibcRemeshSizing.h"
#include "ibcRemesher.h"

#include <chrono>
#include <cmath>
#include <utility>
#include <vector>

namespace ibc
{
namespace remesh
{

using namespace detail;

namespace
{
/// The uniform edge length that gives about as many vertices as a size field: each triangle
/// holds area / (sqrt(3)/2 L^2) vertices at the mean length of its corners.
double representativeEdgeLength(const TriangleMesh& mesh, const std::vector<double>& size)
{
  double area = 0.0;
  double vertices = 0.0;
  for (const auto& t : mesh.triangles)
  {
    const double a = 0.5 *
      length(cross(mesh.points[t[1]] - mesh.points[t[0]], mesh.points[t[2]] - mesh.points[t[0]]));
    const double l = (size[t[0]] + size[t[1]] + size[t[2]]) / 3.0;
    area += a;
    vertices += a / (0.5 * std::sqrt(3.0) * l * l);
  }
  return vertices > 0.0 ? std::sqrt(area / (0.5 * std::sqrt(3.0) * vertices)) : 1.0;
}
} // namespace

TriangleMesh remeshSurface(const TriangleMesh& input,
  const Options& options,
  const std::function<void(double)>& progress)
{
  // (see MaximumSize; repairSurface refuses larger surfaces with a message)
  if (input.triangles.size() > MaximumSize || input.points.size() > MaximumSize)
  {
    return {};
  }
  const auto start = std::chrono::steady_clock::now();
  Options used = options;
  std::vector<double> inputSize;
  if (options.adaptive)
  {
    used.sizing.featureAngleDegrees = options.featureAngleDegrees;
    SizeField field = curvatureSizeField(input.points, input.triangles, used.sizing);
    if (options.adaptiveReport)
    {
      *options.adaptiveReport = AdaptiveReport();
      options.adaptiveReport->smallestCurvatureLength = field.smallestCurvatureLength;
      options.adaptiveReport->verticesAtMinimum = field.verticesAtMinimum;
    }
    // One length stands for the field where the remesher needs one (room to reserve, the
    // search tree's pieces, the search reach): the one that gives as many vertices.
    used.targetEdgeLength = representativeEdgeLength(input, field.length);
    used.targetPointCount = 0;
    inputSize = std::move(field.length);
    if (options.stageSeconds)
    {
      (*options.stageSeconds)["sizing"] +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  }
  Remesher remesher(input, used, std::move(inputSize));
  if (options.stageSeconds)
  {
    (*options.stageSeconds)["construct"] +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  TriangleMesh result = remesher.run(progress);
  if (options.reachedEdgeLength)
  {
    *options.reachedEdgeLength = remesher.targetEdgeLength();
  }
  return result;
}

} // namespace remesh
} // namespace ibc
