// SPDX-License-Identifier: BSD-3-Clause
#include "ibcRegister.h"

#include <vtkSMPTools.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

namespace ibc
{
namespace registration
{
namespace
{
/// One ICP pass: samples moved by the current transform, paired with the target.
struct Pairs
{
  std::vector<Vec3> moved;
  std::vector<Vec3> closest;
  std::vector<Vec3> normals;
  std::vector<double> distances;
  std::vector<char> found;
};

/// The target surface for pairing: closest points, and its open border. A sample whose closest
/// point lies on the border (a surface cut by the edge of the scan, a hole) has no true
/// partner: it is beyond what the target shows, and pairing it would drag the CAD sideways.
struct Target
{
  const remesh::ClosestPointFinder& finder;
  std::vector<std::vector<std::array<Vec3, 2>>> borderEdges; // per triangle (mostly empty)
  double tolerance = 1e-6;

  Target(const remesh::ClosestPointFinder& closestPoints,
    const remesh::TriangleMesh& mesh,
    double size)
    : finder(closestPoints)
    , borderEdges(mesh.triangles.size())
    , tolerance(1e-6 * std::max(1.0, size))
  {
    std::map<std::pair<std::int64_t, std::int64_t>, std::pair<int, std::size_t>> edges;
    for (std::size_t t = 0; t < mesh.triangles.size(); ++t)
    {
      for (int corner = 0; corner < 3; ++corner)
      {
        const std::int64_t a = mesh.triangles[t][corner];
        const std::int64_t b = mesh.triangles[t][(corner + 1) % 3];
        auto& entry = edges[{ std::min(a, b), std::max(a, b) }];
        ++entry.first;
        entry.second = t;
      }
    }
    for (const auto& edge : edges)
    {
      if (edge.second.first == 1)
      {
        this->borderEdges[edge.second.second].push_back(
          { mesh.points[edge.first.first], mesh.points[edge.first.second] });
      }
    }
  }

  bool onBorder(std::int64_t triangle, Vec3 point) const
  {
    for (const auto& edge : this->borderEdges[triangle])
    {
      const Vec3 along = edge[1] - edge[0];
      const double t =
        std::max(0.0, std::min(1.0, dot(point - edge[0], along) / dot(along, along)));
      if (length(edge[0] + t * along - point) <= this->tolerance)
      {
        return true;
      }
    }
    return false;
  }
};

void pairSamples(const std::vector<Vec3>& samples,
  const Transform& transform,
  const Target& target,
  double reach,
  Pairs& pairs)
{
  const std::size_t count = samples.size();
  pairs.moved.resize(count);
  pairs.closest.resize(count);
  pairs.normals.resize(count);
  pairs.distances.resize(count);
  pairs.found.resize(count);
  vtkSMPTools::For(0,
    static_cast<std::int64_t>(count),
    [&](std::int64_t begin, std::int64_t end)
    {
      for (std::int64_t i = begin; i < end; ++i)
      {
        pairs.moved[i] = transform.apply(samples[i]);
        std::int64_t triangle = -1;
        pairs.found[i] = target.finder.closest(
          pairs.moved[i], reach, pairs.closest[i], pairs.distances[i], pairs.normals[i], triangle);
        pairs.found[i] = pairs.found[i] && !target.onBorder(triangle, pairs.closest[i]);
        if (!pairs.found[i])
        {
          pairs.distances[i] = std::numeric_limits<double>::infinity();
        }
      }
    });
}

/// The overlap that best separates matched from unmatched pairs (the fractional RMS distance of
/// Phillips, Liu and Tomasi's outlier-robust ICP): the share xi in [0.3, 1] minimising the RMS
/// distance of the kept pairs over xi^3, which trades a smaller error against keeping fewer
/// pairs. Noise on a fully matched surface keeps xi near 1; a jump in distances (CAD parts the
/// target lacks) stops it there.
double automaticOverlap(const std::vector<double>& distances)
{
  std::vector<double> sorted(distances);
  std::sort(sorted.begin(), sorted.end());
  const std::size_t count = sorted.size();
  double bestShare = 1.0;
  double bestScore = std::numeric_limits<double>::infinity();
  double sum = 0.0;
  std::size_t next = 0;
  for (int percent = 30; percent <= 100; ++percent)
  {
    const std::size_t keep = std::max<std::size_t>(1, (count * percent) / 100);
    for (; next < keep; ++next)
    {
      sum += std::isfinite(sorted[next]) ? sorted[next] * sorted[next] : 1e300;
    }
    const double share = static_cast<double>(keep) / static_cast<double>(count);
    const double cube = share * share * share;
    const double score = (sum / static_cast<double>(keep)) / (cube * cube); // RMS / xi^3, squared
    if (score < bestScore)
    {
      bestScore = score;
      bestShare = share;
    }
  }
  return bestShare;
}

/// The distance below which the `overlap` share of the pairs lies (0: automatic overlap).
double trimDistance(const std::vector<double>& distances, double overlap)
{
  if (overlap <= 0.0)
  {
    overlap = automaticOverlap(distances);
  }
  std::vector<double> sorted(distances);
  const std::size_t keep = std::max<std::size_t>(
    1, std::min(sorted.size(), static_cast<std::size_t>(overlap * sorted.size())));
  std::nth_element(sorted.begin(), sorted.begin() + (keep - 1), sorted.end());
  return sorted[keep - 1];
}

struct Refinement
{
  Transform transform;
  double rms = std::numeric_limits<double>::infinity();
  double rmsAll = std::numeric_limits<double>::infinity();
  double inlierFraction = 0.0;
  int iterations = 0;
  bool settled = false; ///< the last step moved no sample more than the tolerance
};

/// Trimmed point-to-plane ICP from `start`.
Refinement refine(const std::vector<Vec3>& samples,
  const Target& target,
  double reach,
  const Transform& start,
  const Options& options,
  int maximumIterations)
{
  Refinement result;
  result.transform = start;
  Pairs pairs;
  const int unknowns = options.similarity ? 7 : 6;
  for (int iteration = 0; iteration < maximumIterations; ++iteration)
  {
    pairSamples(samples, result.transform, target, reach, pairs);
    const double cut = trimDistance(pairs.distances, options.overlap);
    if (!std::isfinite(cut))
    {
      break;
    }
    // Rotate about the inliers' centroid: better conditioned than about the origin.
    Vec3 center;
    std::size_t inliers = 0;
    for (std::size_t i = 0; i < samples.size(); ++i)
    {
      if (pairs.distances[i] <= cut)
      {
        center = center + pairs.moved[i];
        ++inliers;
      }
    }
    center = (1.0 / static_cast<double>(inliers)) * center;
    std::vector<double> normalMatrix(unknowns * unknowns, 0.0);
    std::vector<double> rhs(unknowns, 0.0);
    double radius = 0.0;
    for (std::size_t i = 0; i < samples.size(); ++i)
    {
      if (pairs.distances[i] > cut)
      {
        continue;
      }
      const Vec3 arm = pairs.moved[i] - center;
      const Vec3 n = pairs.normals[i];
      const Vec3 torque = cross(arm, n);
      const double row[7] = { torque.x, torque.y, torque.z, n.x, n.y, n.z, dot(arm, n) };
      const double residual = dot(pairs.moved[i] - pairs.closest[i], n);
      for (int a = 0; a < unknowns; ++a)
      {
        for (int b = 0; b < unknowns; ++b)
        {
          normalMatrix[a * unknowns + b] += row[a] * row[b];
        }
        rhs[a] -= row[a] * residual;
      }
      radius = std::max(radius, length(arm));
    }
    // A touch of damping keeps flat or symmetric regions from making the system singular.
    double trace = 0.0;
    for (int a = 0; a < unknowns; ++a)
    {
      trace += normalMatrix[a * unknowns + a];
    }
    for (int a = 0; a < unknowns; ++a)
    {
      normalMatrix[a * unknowns + a] += 1e-9 * trace / unknowns;
    }
    if (!solveLinearSystem(normalMatrix, rhs))
    {
      break;
    }
    Transform step;
    step.rotation = rotationFromAxisAngle({ rhs[0], rhs[1], rhs[2] });
    step.scale = options.similarity ? 1.0 + rhs[6] : 1.0;
    step.translation =
      center + Vec3{ rhs[3], rhs[4], rhs[5] } - step.scale * ibc::apply(step.rotation, center);
    result.transform = result.transform.then(step);
    result.transform.rotation = orthonormalized(result.transform.rotation);
    result.iterations = iteration + 1;
    const double movement = length(Vec3{ rhs[0], rhs[1], rhs[2] }) * radius +
      length(Vec3{ rhs[3], rhs[4], rhs[5] }) +
      (options.similarity ? std::abs(rhs[6]) * radius : 0.0);
    if (movement < options.tolerance)
    {
      result.settled = true;
      break;
    }
  }

  pairSamples(samples, result.transform, target, reach, pairs);
  const double cut = trimDistance(pairs.distances, options.overlap);
  double inlierSum = 0.0, allSum = 0.0;
  std::size_t inliers = 0, found = 0;
  for (std::size_t i = 0; i < samples.size(); ++i)
  {
    if (!pairs.found[i])
    {
      continue;
    }
    const double squared = pairs.distances[i] * pairs.distances[i];
    allSum += squared;
    ++found;
    if (pairs.distances[i] <= cut)
    {
      inlierSum += squared;
      ++inliers;
    }
  }
  if (inliers > 0)
  {
    result.rms = std::sqrt(inlierSum / inliers);
    result.rmsAll = std::sqrt(allSum / found);
    result.inlierFraction = static_cast<double>(inliers) / samples.size();
  }
  return result;
}

struct Frame
{
  Vec3 centroid;
  std::array<Vec3, 3> axes; // by decreasing variance, right-handed
};

Frame principalFrame(const remesh::TriangleMesh& mesh)
{
  SurfaceMoments moments;
  for (const auto& t : mesh.triangles)
  {
    moments.addTriangle(mesh.points[t[0]], mesh.points[t[1]], mesh.points[t[2]]);
  }
  Frame frame;
  frame.centroid = moments.centroid();
  const SymmetricEigen eigen = symmetricEigen(moments.covariance());
  const std::array<int, 3> order = eigen.decreasing();
  for (int k = 0; k < 3; ++k)
  {
    frame.axes[k] = eigen.vectors[order[k]];
  }
  if (dot(cross(frame.axes[0], frame.axes[1]), frame.axes[2]) < 0.0)
  {
    frame.axes[2] = -1.0 * frame.axes[2];
  }
  return frame;
}

double boundingDiagonal(const std::vector<Vec3>& points)
{
  Vec3 low{ 1e300, 1e300, 1e300 };
  Vec3 high{ -1e300, -1e300, -1e300 };
  for (const Vec3& p : points)
  {
    low = { std::min(low.x, p.x), std::min(low.y, p.y), std::min(low.z, p.z) };
    high = { std::max(high.x, p.x), std::max(high.y, p.y), std::max(high.z, p.z) };
  }
  return length(high - low);
}
} // namespace

Transform Transform::then(const Transform& next) const
{
  Transform composed;
  composed.rotation = multiply(next.rotation, this->rotation);
  composed.scale = next.scale * this->scale;
  composed.translation = next.apply(this->translation);
  return composed;
}

Transform Transform::inverse() const
{
  Transform inverted;
  inverted.rotation = transpose(this->rotation);
  inverted.scale = 1.0 / this->scale;
  inverted.translation = (-inverted.scale) * ibc::apply(inverted.rotation, this->translation);
  return inverted;
}

std::array<double, 16> Transform::matrix() const
{
  const Rotation& r = this->rotation;
  const double s = this->scale;
  return { s * r[0],
    s * r[1],
    s * r[2],
    this->translation.x,
    s * r[3],
    s * r[4],
    s * r[5],
    this->translation.y,
    s * r[6],
    s * r[7],
    s * r[8],
    this->translation.z,
    0,
    0,
    0,
    1 };
}

std::vector<Vec3> sampleSurface(const remesh::TriangleMesh& mesh, std::size_t count)
{
  double total = 0.0;
  std::vector<double> areas(mesh.triangles.size());
  for (std::size_t t = 0; t < mesh.triangles.size(); ++t)
  {
    const auto& tri = mesh.triangles[t];
    areas[t] = 0.5 *
      length(cross(
        mesh.points[tri[1]] - mesh.points[tri[0]], mesh.points[tri[2]] - mesh.points[tri[0]]));
    total += areas[t];
  }
  std::vector<Vec3> samples;
  if (total <= 0.0)
  {
    return samples;
  }
  samples.reserve(count + 1);
  // The R2 low-discrepancy sequence, folded into each triangle: even coverage, no randomness.
  const double g1 = 0.7548776662466927;
  const double g2 = 0.5698402909980532;
  double carry = 0.0;
  std::size_t sequence = 0;
  for (std::size_t t = 0; t < mesh.triangles.size(); ++t)
  {
    const double exact = areas[t] / total * static_cast<double>(count) + carry;
    const std::size_t here = static_cast<std::size_t>(exact);
    carry = exact - static_cast<double>(here);
    const auto& tri = mesh.triangles[t];
    const Vec3 a = mesh.points[tri[0]];
    const Vec3 ab = mesh.points[tri[1]] - a;
    const Vec3 ac = mesh.points[tri[2]] - a;
    for (std::size_t k = 0; k < here; ++k, ++sequence)
    {
      double u = std::fmod(0.5 + g1 * static_cast<double>(sequence + 1), 1.0);
      double v = std::fmod(0.5 + g2 * static_cast<double>(sequence + 1), 1.0);
      if (u + v > 1.0)
      {
        u = 1.0 - u;
        v = 1.0 - v;
      }
      samples.push_back(a + u * ab + v * ac);
    }
  }
  return samples;
}

Result registerSurfaces(const remesh::TriangleMesh& moving,
  const remesh::TriangleMesh& target,
  const Options& options,
  const std::function<void(double)>& progress)
{
  Result result;
  auto report = [&](double fraction)
  {
    if (progress)
    {
      progress(fraction);
    }
  };
  if (moving.triangles.empty() || target.triangles.empty())
  {
    result.problem = moving.triangles.empty() ? "the moving surface has no triangles"
                                              : "the target has no triangles";
    return result;
  }
  const std::vector<Vec3> samples = sampleSurface(moving, options.samples);
  if (samples.size() < 10)
  {
    result.problem = "the moving surface has no area";
    return result;
  }
  const double targetSize = boundingDiagonal(target.points);
  const double movingSize = boundingDiagonal(moving.points);
  // Pairs are searched within the span of both surfaces: every sample finds a partner.
  const double reach = 2.0 * (targetSize + movingSize) +
    length(principalFrame(moving).centroid - principalFrame(target).centroid);
  const remesh::ClosestPointFinder closestPoints(target, std::max(1e-3, targetSize / 200.0));
  const Target finder(closestPoints, target, targetSize);

  // --- Candidate starts, each refined briefly on a subset of the samples.
  std::vector<std::pair<std::string, Transform>> starts;
  starts.push_back({ "as given", Transform() });
  if (options.automaticInitialAlignment)
  {
    const Frame from = principalFrame(moving);
    const Frame to = principalFrame(target);
    Transform centroids;
    centroids.translation = to.centroid - from.centroid;
    starts.push_back({ "centroids", centroids });
    const double signs[4][3] = { { 1, 1, 1 }, { 1, -1, -1 }, { -1, 1, -1 }, { -1, -1, 1 } };
    const char* names[4] = { "principal axes",
      "principal axes, turned about the first",
      "principal axes, turned about the second",
      "principal axes, turned about the third" };
    for (int choice = 0; choice < 4; ++choice)
    {
      // Maps each moving axis onto the matching target axis, with a sign.
      Rotation rotation{};
      for (int k = 0; k < 3; ++k)
      {
        const Vec3 f = signs[choice][k] * to.axes[k];
        const Vec3 m = from.axes[k];
        const double fv[3] = { f.x, f.y, f.z };
        const double mv[3] = { m.x, m.y, m.z };
        for (int row = 0; row < 3; ++row)
        {
          for (int column = 0; column < 3; ++column)
          {
            rotation[3 * row + column] += fv[row] * mv[column];
          }
        }
      }
      Transform start;
      start.rotation = rotation;
      start.translation = to.centroid - ibc::apply(rotation, from.centroid);
      starts.push_back({ names[choice], start });
    }
  }
  std::size_t best = 0;
  Transform bestStart;
  if (starts.size() > 1)
  {
    std::vector<Vec3> subset;
    const std::size_t stride = std::max<std::size_t>(1, samples.size() / 1000);
    for (std::size_t i = 0; i < samples.size(); i += stride)
    {
      subset.push_back(samples[i]);
    }
    // Starts are compared by the fractional RMS distance, so that a wrong pose matching a
    // small part of the target well does not beat the right one matching all of it.
    std::vector<double> scores(starts.size());
    std::vector<Transform> refined(starts.size());
    double bestScore = std::numeric_limits<double>::infinity();
    for (std::size_t s = 0; s < starts.size(); ++s)
    {
      const Refinement trial = refine(subset, finder, reach, starts[s].second, options, 30);
      const double share = trial.inlierFraction;
      scores[s] =
        share > 0.0 ? trial.rms / (share * share * share) : std::numeric_limits<double>::infinity();
      refined[s] = trial.transform;
      bestScore = std::min(bestScore, scores[s]);
      report(0.5 * (s + 1.0) / starts.size());
    }
    // Poses that fit about equally well are told apart by the user's placement: a target that
    // shows only a symmetric part of the implant (the neck cut off) fits a half-turned CAD as
    // well, and the smallest turn from the given pose is then the answer.
    double smallestTurn = std::numeric_limits<double>::infinity();
    for (std::size_t s = 0; s < starts.size(); ++s)
    {
      const double turn = rotationAngleDegrees(refined[s].rotation);
      if (scores[s] <= 1.25 * bestScore && turn < smallestTurn)
      {
        smallestTurn = turn;
        best = s;
      }
    }
    bestStart = refined[best];
  }
  result.initialAlignment = starts[best].first;

  // --- The full refinement from the best start.
  const Refinement final =
    refine(samples, finder, reach, bestStart, options, options.maximumIterations);
  report(1.0);
  if (!std::isfinite(final.rms))
  {
    result.problem = "no sample of the moving surface found a partner on the target";
    return result;
  }
  result.ok = true;
  result.transform = final.transform;
  result.rms = final.rms;
  result.rmsAll = final.rmsAll;
  result.inlierFraction = final.inlierFraction;
  result.iterations = final.iterations;
  result.settled = final.settled;
  return result;
}

std::string inputProblem(const remesh::TriangleMesh& moving,
  const remesh::TriangleMesh& target,
  bool targetIsCT,
  bool allowScaling)
{
  if (moving.triangles.empty())
  {
    return "the CAD surface (Input) has no triangles";
  }
  if (target.triangles.empty())
  {
    return targetIsCT ? "no metal surface could be extracted from the CT (Target)"
                      : "the Target surface has no triangles";
  }
  for (const auto& [mesh, name] : { std::make_pair(&moving, "the CAD surface (Input)"),
         std::make_pair(&target, "the Target surface") })
  {
    const std::int64_t notFinite = countNonFinite(mesh->points);
    if (notFinite > 0)
    {
      return std::string(name) + ": " + nonFinitePointsProblem(notFinite);
    }
  }
  const double sizeRatio = boundingDiagonal(moving.points) / boundingDiagonal(target.points);
  if (!allowScaling && (sizeRatio > 20.0 || sizeRatio < 0.05))
  {
    std::ostringstream message;
    message << "the CAD surface is " << sizeRatio
            << " times the size of the target: units differ (a surface in metres is "
               "1000 times too small; scale it with a Transform filter), or turn on Allow "
               "Scaling";
    return message.str();
  }
  return std::string();
}

void putInCanonicalOrder(remesh::TriangleMesh& mesh)
{
  remesh::Repair repair;
  remesh::TriangleMesh clean = remesh::repairSurface(mesh, repair);
  if (repair.problem.empty() && !clean.triangles.empty())
  {
    mesh = std::move(clean);
  }
}

Transform transformFromMatrix(const double matrix[16])
{
  Transform transform;
  for (int row = 0; row < 3; ++row)
  {
    for (int column = 0; column < 3; ++column)
    {
      transform.rotation[3 * row + column] = matrix[4 * row + column];
    }
  }
  transform.translation = { matrix[3], matrix[7], matrix[11] };
  const Rotation& r = transform.rotation;
  const double determinant =
    dot(cross(Vec3{ r[0], r[3], r[6] }, Vec3{ r[1], r[4], r[7] }), Vec3{ r[2], r[5], r[8] });
  transform.scale = std::cbrt(determinant);
  for (double& entry : transform.rotation)
  {
    entry /= transform.scale;
  }
  return transform;
}

bool isHalfTurnAboutZ(const Rotation& rotation)
{
  return rotation[0] < -0.996 && rotation[4] < -0.996 && rotation[8] > 0.996;
}

} // namespace registration
} // namespace ibc
