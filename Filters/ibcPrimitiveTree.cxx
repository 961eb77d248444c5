// SPDX-License-Identifier: BSD-3-Clause
// ClosestPointFinder: the public face of the bounding-volume tree.
#include "ibcPrimitiveTree.h"
#include "ibcRemesh.h"

#include <algorithm>
#include <memory>

namespace ibc
{
namespace remesh
{

using namespace detail;

struct ClosestPointFinder::Impl
{
  PrimitiveTree<3> tree;
  LargeArray<std::int64_t> source; // the input triangle of each (bisected) primitive
};

ClosestPointFinder::ClosestPointFinder(const TriangleMesh& mesh, double cellSize)
  : Internals(std::make_shared<Impl>())
{
  buildBisectedTree(
    mesh, 2.0 * std::max(cellSize, 1e-6), this->Internals->tree, this->Internals->source);
}

bool ClosestPointFinder::closest(Vec3 query,
  double maxDistance,
  Vec3& closestPoint,
  double& distance) const
{
  return this->Internals->tree.closest(query, maxDistance, closestPoint, distance);
}

bool ClosestPointFinder::closest(Vec3 query,
  double maxDistance,
  Vec3& closestPoint,
  double& distance,
  Vec3& faceNormal,
  std::int64_t& triangle) const
{
  std::int32_t primitive = -1;
  if (!this->Internals->tree.closest(query, maxDistance, closestPoint, distance, &primitive))
  {
    return false;
  }
  triangle = this->Internals->source[primitive];
  // The pieces of a bisected triangle keep its plane, so their normal is the triangle's.
  const auto& corners = this->Internals->tree.primitives[primitive];
  faceNormal = normalized(cross(corners[1] - corners[0], corners[2] - corners[0]));
  return true;
}

} // namespace remesh
} // namespace ibc
