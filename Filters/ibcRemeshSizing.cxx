// SPDX-License-Identifier: BSD-3-Clause
#include "ibcRemeshSizing.h"

#include "ibcLinearAlgebra.h"

#include <vtkSMPThreadLocal.h>
#include <vtkSMPTools.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <utility>

namespace ibc
{
namespace remesh
{

namespace
{
constexpr double Pi = 3.14159265358979323846;
/// A neighbourhood stops growing at this many triangles: enough for a stable fit, and a dense
/// export does not make every vertex walk thousands.
constexpr std::size_t MaximumPatchTriangles = 96;

/// The triangles around each vertex, as compressed rows.
struct VertexTriangles
{
  std::vector<std::int64_t> start;
  std::vector<std::int64_t> triangles;

  VertexTriangles(std::size_t pointCount, const std::vector<probe::Triangle>& mesh)
    : start(pointCount + 1, 0)
  {
    for (const auto& t : mesh)
    {
      for (const std::int64_t v : t)
      {
        ++this->start[v + 1];
      }
    }
    for (std::size_t v = 0; v < pointCount; ++v)
    {
      this->start[v + 1] += this->start[v];
    }
    this->triangles.resize(this->start.back());
    std::vector<std::int64_t> fill(this->start.begin(), this->start.end() - 1);
    for (std::size_t index = 0; index < mesh.size(); ++index)
    {
      for (const std::int64_t v : mesh[index])
      {
        this->triangles[fill[v]++] = static_cast<std::int64_t>(index);
      }
    }
  }
};

Vec3 areaNormal(const std::vector<Vec3>& points, const probe::Triangle& t)
{
  return cross(points[t[1]] - points[t[0]], points[t[2]] - points[t[0]]);
}

/// The triangle across edge (a, b) of triangle `from`, or -1 (a border).
std::int64_t triangleAcross(const VertexTriangles& around,
  const std::vector<probe::Triangle>& triangles,
  std::int64_t from,
  std::int64_t a,
  std::int64_t b)
{
  for (std::int64_t k = around.start[a]; k < around.start[a + 1]; ++k)
  {
    const std::int64_t candidate = around.triangles[k];
    const auto& t = triangles[candidate];
    if (candidate != from && (t[0] == b || t[1] == b || t[2] == b))
    {
      return candidate;
    }
  }
  return -1;
}

/// Largest absolute principal curvature of the height field h(u, v) fitted in least squares to
/// `offsets` (from the vertex) in the frame whose third axis is `normal`: h = a u^2 + b uv +
/// c v^2 + d u + e v + f, the constant and the slope absorbing noise at the vertex and a tilt
/// of the normal. With fewer than six points, only the quadratic terms.
double fittedCurvature(const std::vector<Vec3>& offsets, Vec3 normal)
{
  const Vec3 helper = std::abs(normal.x) < 0.9 ? Vec3{ 1, 0, 0 } : Vec3{ 0, 1, 0 };
  const Vec3 t1 = normalized(cross(normal, helper));
  const Vec3 t2 = cross(normal, t1);
  const int unknowns = offsets.size() >= 6 ? 6 : 3;
  if (offsets.size() < 3)
  {
    return 0.0;
  }
  std::vector<double> normalMatrix(unknowns * unknowns, 0.0);
  std::vector<double> rhs(unknowns, 0.0);
  for (const Vec3& d : offsets)
  {
    const double u = dot(d, t1);
    const double v = dot(d, t2);
    const double h = dot(d, normal);
    const double basis[6] = { u * u, u * v, v * v, u, v, 1.0 };
    for (int r = 0; r < unknowns; ++r)
    {
      rhs[r] += basis[r] * h;
      for (int c = 0; c < unknowns; ++c)
      {
        normalMatrix[r * unknowns + c] += basis[r] * basis[c];
      }
    }
  }
  if (!solveLinearSystem(normalMatrix, rhs))
  {
    return 0.0;
  }
  const double slopeSquared = unknowns == 6 ? rhs[3] * rhs[3] + rhs[4] * rhs[4] : 0.0;
  // Eigenvalues of the Hessian [[2a, b], [b, 2c]].
  const double meanTerm = rhs[0] + rhs[2];
  const double spread = std::sqrt((rhs[0] - rhs[2]) * (rhs[0] - rhs[2]) + rhs[1] * rhs[1]);
  const double largest = std::max(std::abs(meanTerm + spread), std::abs(meanTerm - spread));
  return largest / std::pow(1.0 + slopeSquared, 1.5);
}

/// What one vertex's neighbourhood search needs, per thread.
struct PatchScratch
{
  std::vector<std::int64_t> visitedBy; // per triangle: the last vertex whose search saw it
  std::vector<std::int64_t> queue;
  std::vector<std::int64_t> patchVertices;
  std::vector<Vec3> offsets;
};

class CurvatureEstimator
{
public:
  CurvatureEstimator(const std::vector<Vec3>& points,
    const std::vector<probe::Triangle>& triangles,
    double featureAngleDegrees)
    : Points(points)
    , Triangles(triangles)
    , Around(points.size(), triangles)
    , FeatureCosine(std::cos(featureAngleDegrees * Pi / 180.0))
  {
  }

  /// The largest curvature over the sides (patches between feature edges) around vertex i.
  double at(std::int64_t i, double radius, PatchScratch& scratch) const
  {
    if (scratch.visitedBy.size() != this->Triangles.size())
    {
      scratch.visitedBy.assign(this->Triangles.size(), -1);
    }
    double curvature = 0.0;
    for (std::int64_t k = this->Around.start[i]; k < this->Around.start[i + 1]; ++k)
    {
      const std::int64_t seed = this->Around.triangles[k];
      if (scratch.visitedBy[seed] != i)
      {
        curvature = std::max(curvature, this->patchCurvature(i, seed, radius, scratch));
      }
    }
    return curvature;
  }

private:
  /// Floods from `seed` over edges that are no feature, through triangles around the vertex or
  /// with a corner within `radius`, and fits the patch's vertices.
  double patchCurvature(std::int64_t i,
    std::int64_t seed,
    double radius,
    PatchScratch& scratch) const
  {
    const Vec3 centre = this->Points[i];
    const double radiusSquared = radius * radius;
    scratch.queue.assign(1, seed);
    scratch.visitedBy[seed] = i;
    scratch.patchVertices.clear();
    Vec3 normal{ 0, 0, 0 };
    for (std::size_t head = 0; head < scratch.queue.size(); ++head)
    {
      const std::int64_t t = scratch.queue[head];
      const auto& corners = this->Triangles[t];
      const Vec3 faceNormal = areaNormal(this->Points, corners);
      normal = normal + faceNormal;
      for (int e = 0; e < 3; ++e)
      {
        scratch.patchVertices.push_back(corners[e]);
        if (scratch.queue.size() >= MaximumPatchTriangles)
        {
          continue;
        }
        const std::int64_t across =
          triangleAcross(this->Around, this->Triangles, t, corners[e], corners[(e + 1) % 3]);
        if (across < 0 || scratch.visitedBy[across] == i)
        {
          continue;
        }
        const Vec3 acrossNormal = areaNormal(this->Points, this->Triangles[across]);
        const double lengths = length(faceNormal) * length(acrossNormal);
        const bool feature =
          lengths > 0.0 && dot(faceNormal, acrossNormal) < this->FeatureCosine * lengths;
        if (feature || !this->reaches(across, i, centre, radiusSquared))
        {
          continue;
        }
        scratch.visitedBy[across] = i;
        scratch.queue.push_back(across);
      }
    }
    std::sort(scratch.patchVertices.begin(), scratch.patchVertices.end());
    scratch.patchVertices.erase(
      std::unique(scratch.patchVertices.begin(), scratch.patchVertices.end()),
      scratch.patchVertices.end());
    scratch.offsets.clear();
    for (const std::int64_t v : scratch.patchVertices)
    {
      scratch.offsets.push_back(this->Points[v] - centre);
    }
    return length(normal) > 0.0 ? fittedCurvature(scratch.offsets, normalized(normal)) : 0.0;
  }

  /// A triangle joins the neighbourhood of vertex i when it is around i or a corner lies
  /// within the radius.
  bool reaches(std::int64_t t, std::int64_t i, Vec3 centre, double radiusSquared) const
  {
    for (const std::int64_t v : this->Triangles[t])
    {
      const Vec3 d = this->Points[v] - centre;
      if (v == i || dot(d, d) <= radiusSquared)
      {
        return true;
      }
    }
    return false;
  }

  const std::vector<Vec3>& Points;
  const std::vector<probe::Triangle>& Triangles;
  VertexTriangles Around;
  double FeatureCosine;
};

/// Curvature at every vertex, each with its own radius, threaded.
std::vector<double> curvatureAtVertices(const CurvatureEstimator& estimator,
  const std::vector<double>& radius)
{
  std::vector<double> curvature(radius.size(), 0.0);
  vtkSMPThreadLocal<PatchScratch> scratch;
  vtkSMPTools::For(0,
    static_cast<vtkIdType>(radius.size()),
    [&](vtkIdType begin, vtkIdType end)
    {
      PatchScratch& local = scratch.Local();
      for (vtkIdType i = begin; i < end; ++i)
      {
        curvature[i] = estimator.at(i, radius[i], local);
      }
    });
  return curvature;
}

/// Mean length of the edges at each vertex (each triangle side counted from both its ends).
std::vector<double> meanEdgeAtVertices(const std::vector<Vec3>& points,
  const std::vector<probe::Triangle>& triangles)
{
  std::vector<double> sum(points.size(), 0.0);
  std::vector<int> count(points.size(), 0);
  for (const auto& t : triangles)
  {
    for (int e = 0; e < 3; ++e)
    {
      const double l = length(points[t[(e + 1) % 3]] - points[t[e]]);
      sum[t[e]] += l;
      sum[t[(e + 1) % 3]] += l;
      ++count[t[e]];
      ++count[t[(e + 1) % 3]];
    }
  }
  for (std::size_t v = 0; v < points.size(); ++v)
  {
    sum[v] = count[v] > 0 ? sum[v] / count[v] : 0.0;
  }
  return sum;
}

/// The longest edge at each vertex that crosses the creases between its input triangles
/// within `deviation`: an edge of length L bent by a crease of angle a in its middle lies
/// L sin(a / 2) / 2 from it, so L <= 2 deviation / sin(a / 2) (0.8 of that). A finely
/// tessellated surface has creases of a few degrees and no limit below the curvature's; a
/// decimated marching-cubes export has creases of 10-20 degrees between big triangles, which
/// a quadric over several of them smooths away. Feature edges (sharper than the feature angle)
/// are kept by the remesher and do not count.
std::vector<double> creaseLimitedLength(const std::vector<Vec3>& points,
  const std::vector<probe::Triangle>& triangles,
  double deviation,
  double featureAngleDegrees)
{
  std::vector<double> limit(points.size(), std::numeric_limits<double>::infinity());
  const VertexTriangles around(points.size(), triangles);
  const double featureCosine = std::cos(featureAngleDegrees * Pi / 180.0);
  for (std::size_t t = 0; t < triangles.size(); ++t)
  {
    const auto& corners = triangles[t];
    const Vec3 normal = normalized(areaNormal(points, corners));
    for (int e = 0; e < 3; ++e)
    {
      const std::int64_t a = corners[e];
      const std::int64_t b = corners[(e + 1) % 3];
      const std::int64_t across =
        triangleAcross(around, triangles, static_cast<std::int64_t>(t), a, b);
      if (across < static_cast<std::int64_t>(t))
      {
        continue; // a border, or seen from the other side
      }
      const double cosine = dot(normal, normalized(areaNormal(points, triangles[across])));
      if (cosine < featureCosine)
      {
        continue;
      }
      const double halfSine = std::sqrt(std::max(0.0, 0.5 * (1.0 - cosine)));
      if (halfSine > 0.0)
      {
        const double longest = 0.8 * 2.0 * deviation / halfSine;
        limit[a] = std::min(limit[a], longest);
        limit[b] = std::min(limit[b], longest);
      }
    }
  }
  return limit;
}
} // namespace

std::vector<double> estimateCurvature(const std::vector<Vec3>& points,
  const std::vector<probe::Triangle>& triangles,
  const std::vector<double>& radius,
  double featureAngleDegrees)
{
  const CurvatureEstimator estimator(points, triangles, featureAngleDegrees);
  return curvatureAtVertices(estimator, radius);
}

double edgeLengthForDeviation(double curvature, double deviation)
{
  if (!(curvature > 0.0))
  {
    return std::numeric_limits<double>::infinity();
  }
  return 0.8 * std::sqrt(6.0 * deviation / curvature);
}

void gradeSizeField(const std::vector<Vec3>& points,
  const std::vector<probe::Triangle>& triangles,
  double gradation,
  std::vector<double>& length)
{
  // Neighbours once per vertex, as compressed rows (each triangle side from both ends).
  std::vector<std::int64_t> start(points.size() + 1, 0);
  for (const auto& t : triangles)
  {
    for (const std::int64_t v : t)
    {
      start[v + 1] += 2;
    }
  }
  for (std::size_t v = 0; v < points.size(); ++v)
  {
    start[v + 1] += start[v];
  }
  std::vector<std::int64_t> neighbours(start.back());
  std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
  for (const auto& t : triangles)
  {
    for (int e = 0; e < 3; ++e)
    {
      neighbours[fill[t[e]]++] = t[(e + 1) % 3];
      neighbours[fill[t[e]]++] = t[(e + 2) % 3];
    }
  }
  // Dijkstra from every vertex at once: the smallest lengths settle first and cap the others.
  using Entry = std::pair<double, std::int64_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> pending;
  for (std::size_t v = 0; v < points.size(); ++v)
  {
    pending.emplace(length[v], static_cast<std::int64_t>(v));
  }
  while (!pending.empty())
  {
    const auto [value, v] = pending.top();
    pending.pop();
    if (value > length[v])
    {
      continue; // a stale entry
    }
    for (std::int64_t k = start[v]; k < start[v + 1]; ++k)
    {
      const std::int64_t w = neighbours[k];
      const double capped = value + gradation * ibc::length(points[w] - points[v]);
      if (capped < length[w])
      {
        length[w] = capped;
        pending.emplace(capped, w);
      }
    }
  }
}

SizeField curvatureSizeField(const std::vector<Vec3>& points,
  const std::vector<probe::Triangle>& triangles,
  const SizingOptions& options)
{
  SizeField field;
  const CurvatureEstimator estimator(points, triangles, options.featureAngleDegrees);
  // The fit reaches at least two input edges out (noise of a segmented export averages out)
  // and at most half the edge that will span it.
  const std::vector<double> inputEdge = meanEdgeAtVertices(points, triangles);
  std::vector<double> radius(points.size());
  for (std::size_t v = 0; v < points.size(); ++v)
  {
    radius[v] = std::max(0.5 * options.maximumEdgeLength, 2.0 * inputEdge[v]);
  }
  std::vector<double> curvature = curvatureAtVertices(estimator, radius);
  // A curved place asks for short edges, and a fit as wide as the longest edge averages its
  // curvature down (and lends it to the flat surroundings): measured again over half the
  // length it asked for, twice.
  for (int pass = 0; pass < 2; ++pass)
  {
    bool tightened = false;
    for (std::size_t v = 0; v < points.size(); ++v)
    {
      const double wanted = edgeLengthForDeviation(curvature[v], options.maximumDeviation);
      const double tighter = std::max(0.5 * wanted, 2.0 * inputEdge[v]);
      if (tighter < 0.9 * radius[v])
      {
        radius[v] = tighter;
        tightened = true;
      }
    }
    if (!tightened)
    {
      break;
    }
    curvature = curvatureAtVertices(estimator, radius);
  }
  const std::vector<double> creaseLimit =
    creaseLimitedLength(points, triangles, options.maximumDeviation, options.featureAngleDegrees);
  field.length.resize(points.size());
  field.smallestCurvatureLength = options.maximumEdgeLength;
  for (std::size_t v = 0; v < points.size(); ++v)
  {
    const double wanted =
      std::min(edgeLengthForDeviation(curvature[v], options.maximumDeviation), creaseLimit[v]);
    field.smallestCurvatureLength = std::min(field.smallestCurvatureLength, wanted);
    field.verticesAtMinimum += wanted < options.minimumEdgeLength ? 1 : 0;
    field.length[v] = std::clamp(wanted, options.minimumEdgeLength, options.maximumEdgeLength);
  }
  gradeSizeField(points, triangles, options.gradation, field.length);
  return field;
}

} // namespace remesh
} // namespace ibc
