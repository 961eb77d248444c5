// SPDX-License-Identifier: BSD-3-Clause
#include "ibcRemesh.h"

#include <OpenMesh/Core/Mesh/TriMesh_ArrayKernelT.hh>
#include <vtkSMPTools.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <thread>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace ibc
{
namespace remesh
{

namespace
{
constexpr double Pi = 3.14159265358979323846;
/// The most points or triangles a surface may have: triangles and their edges (three per
/// triangle) are numbered with 32-bit integers.
constexpr std::size_t MaximumSize = 500000000;

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

Vec3 toVec(const OpenMesh::Vec3d& p)
{
  return { p[0], p[1], p[2] };
}
OpenMesh::Vec3d toOM(Vec3 p)
{
  return { p.x, p.y, p.z };
}

/// Where on a triangle its closest point to a query lies: inside, on edge `index` (from corner
/// index to corner index + 1), or at corner `index`.
struct ClosestFeature
{
  enum Kind : std::uint8_t
  {
    Inside,
    OnEdge,
    AtCorner
  };
  Kind kind = Inside;
  std::uint8_t index = 0;
};

// Closest point of triangle (a, b, c) to p, by the Voronoi regions of its vertices and edges.
Vec3 closestOnTriangle(Vec3 p, Vec3 a, Vec3 b, Vec3 c, ClosestFeature& feature)
{
  const Vec3 ab = b - a;
  const Vec3 ac = c - a;
  const Vec3 ap = p - a;
  const double d1 = dot(ab, ap);
  const double d2 = dot(ac, ap);
  if (d1 <= 0.0 && d2 <= 0.0)
  {
    feature = { ClosestFeature::AtCorner, 0 };
    return a;
  }
  const Vec3 bp = p - b;
  const double d3 = dot(ab, bp);
  const double d4 = dot(ac, bp);
  if (d3 >= 0.0 && d4 <= d3)
  {
    feature = { ClosestFeature::AtCorner, 1 };
    return b;
  }
  const double vc = d1 * d4 - d3 * d2;
  if (vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0)
  {
    feature = { ClosestFeature::OnEdge, 0 };
    return a + (d1 / (d1 - d3)) * ab;
  }
  const Vec3 cp = p - c;
  const double d5 = dot(ab, cp);
  const double d6 = dot(ac, cp);
  if (d6 >= 0.0 && d5 <= d6)
  {
    feature = { ClosestFeature::AtCorner, 2 };
    return c;
  }
  const double vb = d5 * d2 - d1 * d6;
  if (vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0)
  {
    feature = { ClosestFeature::OnEdge, 2 };
    return a + (d2 / (d2 - d6)) * ac;
  }
  const double va = d3 * d6 - d5 * d4;
  if (va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0)
  {
    feature = { ClosestFeature::OnEdge, 1 };
    return b + ((d4 - d3) / ((d4 - d3) + (d5 - d6))) * (c - b);
  }
  feature = { ClosestFeature::Inside, 0 };
  const double denominator = 1.0 / (va + vb + vc);
  return a + (vb * denominator) * ab + (vc * denominator) * ac;
}

Vec3 closestOnTriangle(Vec3 p, Vec3 a, Vec3 b, Vec3 c)
{
  ClosestFeature unused;
  return closestOnTriangle(p, a, b, c, unused);
}

Vec3 closestOnSegment(Vec3 p, Vec3 a, Vec3 b)
{
  const Vec3 ab = b - a;
  const double lengthSquared = dot(ab, ab);
  const double t = lengthSquared > 0.0 ? std::clamp(dot(p - a, ab) / lengthSquared, 0.0, 1.0) : 0.0;
  return a + t * ab;
}

double triangleMinimumAngle(Vec3 a, Vec3 b, Vec3 c)
{
  auto angle = [](Vec3 p, Vec3 q, Vec3 r)
  {
    const Vec3 u = normalized(q - p);
    const Vec3 v = normalized(r - p);
    return std::acos(std::clamp(dot(u, v), -1.0, 1.0));
  };
  return std::min({ angle(a, b, c), angle(b, c, a), angle(c, a, b) }) * 180.0 / Pi;
}

/// Allocator for the arrays of millions of elements: asks Linux for transparent huge pages.
/// Touching fresh memory costs a page fault per 4 KiB page, and on a virtual machine a fault
/// costs about 10 us (measured here: 11 us per page, 0.9 us with huge pages), so that the
/// search tree of a 1M-triangle input spent more time in faults than in building. One 2 MiB
/// page covers what 512 small ones do.
template<typename T>
struct HugePageAllocator
{
  using value_type = T;
  HugePageAllocator() = default;
  template<typename U>
  HugePageAllocator(const HugePageAllocator<U>&)
  {
  }
  T* allocate(std::size_t count)
  {
    const std::size_t bytes = count * sizeof(T);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr std::size_t hugePage = std::size_t(2) << 20;
    if (bytes >= 4 * hugePage)
    {
      const std::size_t rounded = (bytes + hugePage - 1) / hugePage * hugePage;
      if (void* memory = std::aligned_alloc(hugePage, rounded))
      {
        madvise(memory, rounded, MADV_HUGEPAGE); // a hint: small pages when none are free
        return static_cast<T*>(memory);
      }
      throw std::bad_alloc();
    }
#endif
    if (void* memory = std::malloc(std::max<std::size_t>(bytes, 1)))
    {
      return static_cast<T*>(memory);
    }
    throw std::bad_alloc();
  }
  void deallocate(T* memory, std::size_t)
  {
    std::free(memory);
  }
  template<typename U>
  bool operator==(const HugePageAllocator<U>&) const
  {
    return true;
  }
  template<typename U>
  bool operator!=(const HugePageAllocator<U>&) const
  {
    return false;
  }
};
template<typename T>
using LargeArray = std::vector<T, HugePageAllocator<T>>;

/// Asks for transparent huge pages behind memory allocated elsewhere (see HugePageAllocator):
/// only the whole 2 MiB pages inside [first, first + bytes) are affected, and pages already
/// touched stay as they are.
void adviseHugePages(const void* first, std::size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t hugePage = std::uintptr_t(2) << 20;
  const auto start = reinterpret_cast<std::uintptr_t>(first);
  const std::uintptr_t begin = (start + hugePage - 1) & ~(hugePage - 1);
  const std::uintptr_t end = (start + bytes) & ~(hugePage - 1);
  if (end > begin)
  {
    madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  }
#else
  (void)first;
  (void)bytes;
#endif
}

template<typename Vector>
void adviseHugePages(const Vector& vector)
{
  adviseHugePages(vector.data(), vector.capacity() * sizeof(typename Vector::value_type));
}

/// Puts two zero bits between each of the 21 low bits of x.
std::uint64_t spreadBits(std::uint64_t x)
{
  x &= 0x1fffff;
  x = (x | x << 32) & 0x1f00000000ffffULL;
  x = (x | x << 16) & 0x1f0000ff0000ffULL;
  x = (x | x << 8) & 0x100f00f00f00f00fULL;
  x = (x | x << 4) & 0x10c30c30c30c30c3ULL;
  x = (x | x << 2) & 0x1249249249249249ULL;
  return x;
}

/// Position on a Morton (Z-order) curve of a point given in [0, 2^21) per axis.
std::uint64_t mortonCode(Vec3 p)
{
  return spreadBits(static_cast<std::uint64_t>(p.x)) |
    spreadBits(static_cast<std::uint64_t>(p.y)) << 1 |
    spreadBits(static_cast<std::uint64_t>(p.z)) << 2;
}

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

/// The triangle across each edge of each triangle: across[3 t + k] for edge k of triangle t
/// (from corner k to corner k + 1), -1 on a border or a non-manifold edge; counts the
/// non-manifold edges (shared by more than two triangles). The edges are grouped by their
/// smaller end with a counting sort, so the work is linear in the mesh (a sort of all edges
/// took most of the repair of a dense export).
LargeArray<std::int32_t> findEdgeNeighbours(std::size_t vertexCount,
  const std::vector<probe::Triangle>& triangles,
  std::int64_t& nonManifoldEdges)
{
  nonManifoldEdges = 0;
  const std::size_t slots = 3 * triangles.size();
  LargeArray<std::int32_t> across(slots, -1);
  LargeArray<std::int64_t> start(vertexCount + 1, 0);
  for (const auto& t : triangles)
  {
    for (int k = 0; k < 3; ++k)
    {
      ++start[std::min(t[k], t[(k + 1) % 3]) + 1];
    }
  }
  for (std::size_t v = 0; v < vertexCount; ++v)
  {
    start[v + 1] += start[v];
  }
  // Each edge slot under its smaller end, with its larger end to match on.
  LargeArray<std::pair<std::int32_t, std::int32_t>> bucket(slots);
  {
    LargeArray<std::int64_t> fill(start.begin(), start.end() - 1);
    for (std::size_t slot = 0; slot < slots; ++slot)
    {
      const auto& t = triangles[slot / 3];
      const std::int64_t a = t[slot % 3];
      const std::int64_t b = t[(slot % 3 + 1) % 3];
      bucket[fill[std::min(a, b)]++] = { static_cast<std::int32_t>(std::max(a, b)),
        static_cast<std::int32_t>(slot) };
    }
  }
  for (std::size_t v = 0; v < vertexCount; ++v)
  {
    const auto first = bucket.begin() + start[v];
    const auto last = bucket.begin() + start[v + 1];
    if (last - first <= 16)
    {
      // (A vertex has six edges on average: insertion sort, without std::sort's set-up.)
      for (auto i = first + 1; i < last; ++i)
      {
        for (auto j = i; j > first && *j < *(j - 1); --j)
        {
          std::iter_swap(j, j - 1);
        }
      }
    }
    else
    {
      std::sort(first, last);
    }
    for (auto group = first; group != last;)
    {
      auto end = group + 1;
      while (end != last && end->first == group->first)
      {
        ++end;
      }
      if (end - group == 2)
      {
        across[group->second] = (group + 1)->second / 3;
        across[(group + 1)->second] = group->second / 3;
      }
      else if (end - group > 2)
      {
        ++nonManifoldEdges;
      }
      group = end;
    }
  }
  return across;
}

enum FeatureType : std::uint8_t
{
  Smooth = 0,
  OnFeatureLine = 1,
  Corner = 2
};

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

class Remesher
{
public:
  /// inputSize: the target length at each input vertex for adaptive sizing; empty for
  /// options.targetEdgeLength everywhere.
  Remesher(const TriangleMesh& input, const Options& options, std::vector<double> inputSize = {})
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

  ~Remesher() { this->waitForSurfaceTree(); }
  Remesher(const Remesher&) = delete;
  Remesher& operator=(const Remesher&) = delete;

  /// The target length, as corrected for a point count.
  double targetEdgeLength() const { return this->Opts.targetEdgeLength; }

  /// The target lengths at the input's vertices (adaptive sizing; empty otherwise).
  const std::vector<double>& inputSize() const { return this->InputSize; }

  TriangleMesh run(const std::function<void(double)>& progress)
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

  /// The last collapses leave a few poorly shaped triangles; flips and relaxation without
  /// further topology changes even them out.
  void polish()
  {
    for (int round = 0; round < 3; ++round)
    {
      this->timed("flip", [&] { this->equalizeValences(); });
      this->timed("flip", [&] { this->flipTowardsDelaunay(); });
      this->timed("relax", [&] { this->relaxTangentially(); });
      this->timed("project", [&] { this->projectToInput(); });
    }
  }

  /// Splits the edges whose middle lies farther than `share` of the target from the input (the
  /// new vertex is projected onto it with the others). Feature and border edges are followed
  /// by their own lines and stay as they are.
  void splitEdgesAwayFromInput(double share)
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
  bool splitStaysShaped(Mesh::HalfedgeHandle h, Vec3 middle) const
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

  /// One round of split, collapse, flip, relax and project.
  void iterate()
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
  TriangleMesh currentMesh() const
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

  /// Adaptive sizing: measures how far each input vertex is from the mesh as it is; where more
  /// than the maximum deviation, shrinks the target there in proportion (the deviation grows
  /// with the square of the length on a smooth surface, but only linearly where an edge cuts
  /// across a crease of a faceted input) and grades again, and gives every mesh vertex its new
  /// target. Whether any target changed.
  bool shrinkSizesWhereTooFar()
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
  void refreshSizes()
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
  void buildMesh()
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
  void correctLengthForPointCount(int iteration)
  {
    if (this->Opts.targetPointCount <= 0 || iteration == 0 ||
      iteration + 1 >= this->Opts.iterations)
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
  void rebuildInSpatialOrder()
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

  void markFeatures()
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

  /// Flips `e` when it is not Delaunay (the angles opposite it add up to more than 180 degrees),
  /// its faces turn by less than acos(coplanar), it is no feature or border, and the flipped
  /// pair stays convex. Face normals are computed here: faces made by splits have none cached.
  bool flipIfNotDelaunay(Mesh::EdgeHandle e, double coplanar)
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
  void flipTowardsDelaunay()
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
  void legalizeAround(Mesh::VertexHandle inserted)
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
  void splitLongEdges(double ratio)
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

  Mesh::VertexHandle splitEdge(Mesh::EdgeHandle e)
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
        const auto other = this->M.from_vertex_handle(he) == middle
          ? this->M.to_vertex_handle(he)
          : this->M.from_vertex_handle(he);
        this->M.property(this->FeatureEdge, edge) = feature && (other == v0 || other == v1);
      }
      return middle;
    }
  }

  /// Collapses the edges shorter than `low` times their target where no edge longer than
  /// `high` times it appears.
  void collapseShortEdges(double low, double high)
  {
    for (std::size_t i = 0; i < this->M.n_edges(); ++i)
    {
      this->countCollapses(this->collapseIfShort(Mesh::EdgeHandle(static_cast<int>(i)), low, high));
    }
  }

  void countCollapses(std::size_t collapses)
  {
    this->TopologyChanges += collapses;
    this->DeletedVertices += collapses;
  }

  /// The same in parts at once, for thinning a dense input: the vertices are cut into four
  /// runs of their (spatial) order, and the threads each collapse the edges
  /// whose ends both have no vertex of another run within two rings. A collapse changes only the
  /// rings of its two ends, and its new edges join its kept end to neighbours of the removed
  /// one, so no thread ever touches a vertex, edge or face another one does (the vertices
  /// next to a run's inside all lie in that run). The edges near the cuts follow serially.
  /// Each part's result depends on nothing the others do: the result is the same every run.
  void collapseShortEdgesInParts(double low, double high)
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
        this->countCollapses(
          this->collapseIfShort(Mesh::EdgeHandle(static_cast<int>(i)), low, high));
      }
    }
  }

  /// Collapses `e` when it is shorter than `lowRatio` times its target and the collapse keeps
  /// the mesh in shape (see ringStaysShaped and the feature rules); whether it did.
  bool collapseIfShort(Mesh::EdgeHandle e, double lowRatio, double highRatio)
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
  bool ringStaysShaped(Mesh::VertexHandle end,
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

  int targetValence(Mesh::VertexHandle v) const { return this->M.is_boundary(v) ? 4 : 6; }

  void equalizeValences()
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

  void relaxTangentially()
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

  void relaxVertex(Mesh::VertexHandle v, std::vector<OpenMesh::Vec3d>& moved) const
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

  /// The projection target for searches: the input cut into pieces no longer than sixteen
  /// times the target (the same surface exactly), so that a CAD export's huge fan triangles and
  /// slivers do not overlap every box of the tree. Runs on a thread of its own while the first
  /// splits and collapses run (it reads only the input).
  void buildSurfaceTree()
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

  void waitForSurfaceTree()
  {
    if (this->SurfaceBuilder.joinable())
    {
      this->SurfaceBuilder.join();
    }
  }

  /// Closest point on the input surface, walking from the input triangle this vertex (or the
  /// vertex it was split from) was nearest last time, else searching the tree; remembers the
  /// new one.
  bool projectOntoSurface(Mesh::VertexHandle v,
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
  bool projectOntoFeatureLine(Mesh::VertexHandle v, Vec3 p, double near, double reach, Vec3& q)
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
  bool walkToNearest(Vec3 p, double near, std::int32_t& triangle, Vec3& q, double& distance) const
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

  void projectToInput()
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
} // namespace

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
