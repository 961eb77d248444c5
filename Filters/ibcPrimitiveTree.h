// SPDX-License-Identifier: BSD-3-Clause
// The remesher's bounding-volume tree of triangles or segments for closest-point queries, and
// its build over a mesh cut into bounded pieces (ClosestPointFinder and the remesher's
// projection use it). Private to the module.
#ifndef ibcPrimitiveTree_h
#define ibcPrimitiveTree_h

#include "ibcRemesh.h"
#include "ibcRemeshArrays.h"
#include "ibcRemeshGeometry.h"
#include "ibcVector.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <utility>

namespace ibc
{
namespace remesh
{

// Hidden: nothing here is exported from the library, so that calls within a file may be
// inlined (GCC does not inline a default-visibility function of a shared library: another
// library could interpose it).
namespace [[gnu::visibility("hidden")]] detail
{
/// A bounding-volume hierarchy of primitives (triangles or segments) for closest-point
/// queries; robust to the huge, thin triangles of CAD exports, unlike a uniform grid.
template<int Corners>
struct PrimitiveTree
{
  struct Node
  {
    Vec3 low;
    Vec3 high;
    std::int32_t first = 0; // leaf: primitives [first, first + count); inner: children
    std::int32_t count = 0; // 0 for inner nodes
    std::int32_t left = -1;
    std::int32_t right = -1;
  };
  LargeArray<std::array<Vec3, Corners>> primitives;
  LargeArray<std::int32_t> order;
  LargeArray<Node> nodes;
  LargeArray<std::uint64_t> keys; // during build only: Morton codes in order

  void add(const std::array<Vec3, Corners>& primitive) { primitives.push_back(primitive); }
  bool empty() const { return primitives.empty(); }

  /// Bounding box of a primitive.
  void bounds(std::int32_t index, Vec3& low, Vec3& high) const
  {
    low = high = primitives[index][0];
    for (const Vec3& p : primitives[index])
    {
      low = minimum(low, p);
      high = maximum(high, p);
    }
  }

  /// Sorts the primitives along a Morton (Z-order) curve of their centres and splits the sorted
  /// run where the curve's highest differing bit changes: a linear build after one sort,
  /// several times faster than median splits for the millions of pieces of a dense export.
  /// (Boxes and centres are recomputed where needed rather than stored: fresh memory is slow.)
  void build()
  {
    const std::size_t count = primitives.size();
    order.resize(count);
    nodes.clear();
    if (count == 0)
    {
      return;
    }
    auto centre = [this](std::size_t i)
    {
      Vec3 low;
      Vec3 high;
      this->bounds(static_cast<std::int32_t>(i), low, high);
      return 0.5 * (low + high);
    };
    Vec3 centreLow = centre(0);
    Vec3 centreHigh = centreLow;
    for (std::size_t i = 1; i < count; ++i)
    {
      centreLow = minimum(centreLow, centre(i));
      centreHigh = maximum(centreHigh, centre(i));
    }
    const Vec3 extent = centreHigh - centreLow;
    const double scale = 2097151.0 / std::max({ extent.x, extent.y, extent.z, 1e-12 });
    LargeArray<std::pair<std::uint64_t, std::int32_t>> keyed(count);
    for (std::size_t i = 0; i < count; ++i)
    {
      keyed[i] = { mortonCode(scale * (centre(i) - centreLow)), static_cast<std::int32_t>(i) };
    }
    std::sort(keyed.begin(), keyed.end());
    keys.resize(count);
    for (std::size_t i = 0; i < count; ++i)
    {
      keys[i] = keyed[i].first;
      order[i] = keyed[i].second;
    }
    keyed = decltype(keyed)();
    nodes.reserve(2 * count);
    buildNode(0, static_cast<std::int32_t>(count));
    keys = LargeArray<std::uint64_t>();
  }

  std::int32_t buildNode(std::int32_t first, std::int32_t end)
  {
    const auto index = static_cast<std::int32_t>(nodes.size());
    nodes.emplace_back();
    if (end - first <= 4)
    {
      Node leaf;
      bounds(order[first], leaf.low, leaf.high);
      for (std::int32_t i = first + 1; i < end; ++i)
      {
        Vec3 low;
        Vec3 high;
        bounds(order[i], low, high);
        leaf.low = minimum(leaf.low, low);
        leaf.high = maximum(leaf.high, high);
      }
      leaf.first = first;
      leaf.count = end - first;
      nodes[index] = leaf;
      return index;
    }
    // Split where the highest bit that differs within the run changes (the middle when all
    // keys are equal).
    std::int32_t middle = first + (end - first) / 2;
    const std::uint64_t differing = keys[first] ^ keys[end - 1];
    if (differing != 0)
    {
      std::uint64_t bit = std::uint64_t(1) << 63;
      while (!(differing & bit))
      {
        bit >>= 1;
      }
      middle = static_cast<std::int32_t>(std::partition_point(keys.begin() + first,
                                           keys.begin() + end,
                                           [bit](std::uint64_t key) { return !(key & bit); }) -
        keys.begin());
    }
    const std::int32_t left = buildNode(first, middle);
    const std::int32_t right = buildNode(middle, end);
    Node inner;
    inner.low = minimum(nodes[left].low, nodes[right].low);
    inner.high = maximum(nodes[left].high, nodes[right].high);
    inner.left = left;
    inner.right = right;
    nodes[index] = inner;
    return index;
  }

  static Vec3 minimum(Vec3 a, Vec3 b)
  {
    return { std::min(a.x, b.x), std::min(a.y, b.y), std::min(a.z, b.z) };
  }
  static Vec3 maximum(Vec3 a, Vec3 b)
  {
    return { std::max(a.x, b.x), std::max(a.y, b.y), std::max(a.z, b.z) };
  }

  static double boxDistanceSquared(const Node& node, Vec3 p)
  {
    const double dx = std::max({ node.low.x - p.x, 0.0, p.x - node.high.x });
    const double dy = std::max({ node.low.y - p.y, 0.0, p.y - node.high.y });
    const double dz = std::max({ node.low.z - p.z, 0.0, p.z - node.high.z });
    return dx * dx + dy * dy + dz * dz;
  }

  Vec3 closestOn(Vec3 p, std::int32_t index) const
  {
    const auto& q = primitives[index];
    if constexpr (Corners == 3)
    {
      return closestOnTriangle(p, q[0], q[1], q[2]);
    }
    else
    {
      return closestOnSegment(p, q[0], q[1]);
    }
  }

  bool closest(Vec3 p,
    double maxDistance,
    Vec3& best,
    double& bestDistance,
    std::int32_t* bestPrimitive = nullptr,
    std::int32_t hint = -1) const
  {
    double bestSquared = maxDistance * maxDistance;
    bool found = false;
    // A hint (the primitive this point was nearest last time) gives a tight first bound, so the
    // search visits only the few boxes closer than that.
    if (hint >= 0 && hint < static_cast<std::int32_t>(primitives.size()))
    {
      const Vec3 q = closestOn(p, hint);
      const Vec3 d = q - p;
      if (dot(d, d) <= bestSquared)
      {
        bestSquared = dot(d, d);
        best = q;
        found = true;
        if (bestPrimitive)
        {
          *bestPrimitive = hint;
        }
      }
    }
    if (nodes.empty())
    {
      return false;
    }
    std::int32_t stack[128];
    int top = 0;
    stack[top++] = 0;
    while (top > 0)
    {
      const Node& node = nodes[stack[--top]];
      if (boxDistanceSquared(node, p) > bestSquared)
      {
        continue;
      }
      if (node.count > 0)
      {
        for (std::int32_t i = node.first; i < node.first + node.count; ++i)
        {
          const Vec3 q = closestOn(p, order[i]);
          const Vec3 d = q - p;
          const double squared = dot(d, d);
          if (squared <= bestSquared)
          {
            bestSquared = squared;
            best = q;
            found = true;
            if (bestPrimitive)
            {
              *bestPrimitive = order[i];
            }
          }
        }
        continue;
      }
      // Visit the nearer child first (pushed last).
      const double left = boxDistanceSquared(nodes[node.left], p);
      const double right = boxDistanceSquared(nodes[node.right], p);
      if (top + 2 > 128)
      {
        continue;
      }
      if (left < right)
      {
        stack[top++] = node.right;
        stack[top++] = node.left;
      }
      else
      {
        stack[top++] = node.left;
        stack[top++] = node.right;
      }
    }
    bestDistance = std::sqrt(bestSquared);
    return found;
  }
};

/// Cuts a triangle into pieces no longer than `longest` (longest-edge bisection: the same
/// surface exactly) and hands each to visit(a, b, c), so that a CAD export's huge fan triangles
/// and slivers do not overlap every box of a search tree.
template<typename Visit>
void forEachBisectedPiece(Vec3 a, Vec3 b, Vec3 c, double longest, Visit& visit, int depth = 0)
{
  const double ab = length(b - a);
  const double bc = length(c - b);
  const double ca = length(a - c);
  // (Not a finite triangle: kept whole, else every piece would be cut again down to depth 40.)
  if (!std::isfinite(ab + bc + ca) || std::max({ ab, bc, ca }) <= longest || depth > 40)
  {
    visit(a, b, c);
    return;
  }
  if (ab >= bc && ab >= ca)
  {
    const Vec3 m = 0.5 * (a + b);
    forEachBisectedPiece(a, m, c, longest, visit, depth + 1);
    forEachBisectedPiece(m, b, c, longest, visit, depth + 1);
  }
  else if (bc >= ca)
  {
    const Vec3 m = 0.5 * (b + c);
    forEachBisectedPiece(a, b, m, longest, visit, depth + 1);
    forEachBisectedPiece(a, m, c, longest, visit, depth + 1);
  }
  else
  {
    const Vec3 m = 0.5 * (c + a);
    forEachBisectedPiece(a, b, m, longest, visit, depth + 1);
    forEachBisectedPiece(m, b, c, longest, visit, depth + 1);
  }
}

/// Builds `tree` over a mesh's triangles cut into pieces no longer than `longest`, with the
/// mesh triangle of each piece in `source`. The pieces are counted first: room made once, as
/// growing arrays of millions of pieces copy them into fresh memory again and again.
template<typename Index>
void buildBisectedTree(const TriangleMesh& mesh,
  double longest,
  PrimitiveTree<3>& tree,
  LargeArray<Index>& source)
{
  std::size_t pieces = 0;
  auto count = [&pieces](Vec3, Vec3, Vec3) { ++pieces; };
  for (const auto& t : mesh.triangles)
  {
    forEachBisectedPiece(mesh.points[t[0]], mesh.points[t[1]], mesh.points[t[2]], longest, count);
  }
  tree.primitives.reserve(pieces);
  source.reserve(pieces);
  for (std::size_t index = 0; index < mesh.triangles.size(); ++index)
  {
    auto add = [&](Vec3 a, Vec3 b, Vec3 c)
    {
      tree.add({ a, b, c });
      source.push_back(static_cast<Index>(index));
    };
    const auto& t = mesh.triangles[index];
    forEachBisectedPiece(mesh.points[t[0]], mesh.points[t[1]], mesh.points[t[2]], longest, add);
  }
  tree.build();
}
} // namespace detail

} // namespace remesh
} // namespace ibc

#endif
