// SPDX-License-Identifier: BSD-3-Clause
#include "ibcContactStatistics.h"
#include "ibcLinearAlgebra.h"

#include <vtkType.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

namespace ibc
{
namespace contact
{

namespace
{
constexpr double NaN = std::numeric_limits<double>::quiet_NaN();
constexpr double Huge = std::numeric_limits<double>::max();

// Eigenvector of the largest eigenvalue of a symmetric 3x3 matrix.
Vec3 principalAxis(const Matrix3& covariance)
{
  const SymmetricEigen eigen = symmetricEigen(covariance);
  return eigen.vectors[eigen.largest()];
}

// Area-weighted centroid and principal axis of the selected points, over all ranks.
bool weightedAxis(const std::vector<Vec3>& points,
  const std::vector<double>& areas,
  const std::vector<char>& selected,
  const Collective& comm,
  Vec3& centroid,
  Vec3& axis)
{
  double first[4] = { 0, 0, 0, 0 };
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    if (selected[i])
    {
      first[0] += areas[i] * points[i].x;
      first[1] += areas[i] * points[i].y;
      first[2] += areas[i] * points[i].z;
      first[3] += areas[i];
    }
  }
  comm.sum(first, 4);
  if (first[3] <= 0.0)
  {
    return false;
  }
  centroid = { first[0] / first[3], first[1] / first[3], first[2] / first[3] };
  double second[6] = { 0, 0, 0, 0, 0, 0 };
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    if (selected[i])
    {
      const Vec3 d = points[i] - centroid;
      second[0] += areas[i] * d.x * d.x;
      second[1] += areas[i] * d.x * d.y;
      second[2] += areas[i] * d.x * d.z;
      second[3] += areas[i] * d.y * d.y;
      second[4] += areas[i] * d.y * d.z;
      second[5] += areas[i] * d.z * d.z;
    }
  }
  comm.sum(second, 6);
  const Matrix3 covariance{ { { second[0], second[1], second[2] },
    { second[1], second[3], second[4] },
    { second[2], second[4], second[5] } } };
  axis = principalAxis(covariance);
  return true;
}

// Global minimum and maximum of the projections of the points on a direction.
void projectionRange(const std::vector<Vec3>& points,
  Vec3 origin,
  Vec3 direction,
  const Collective& comm,
  double& low,
  double& high)
{
  double extremes[2] = { -Huge, -Huge };
  for (const Vec3& p : points)
  {
    const double t = dot(p - origin, direction);
    extremes[0] = std::max(extremes[0], -t);
    extremes[1] = std::max(extremes[1], t);
  }
  comm.maximum(extremes, 2);
  low = -extremes[0];
  high = extremes[1];
}

// Area-weighted mean distance from the axis line of the points whose projection lies in
// [from, to].
double meanSpread(const std::vector<Vec3>& points,
  const std::vector<double>& areas,
  Vec3 origin,
  Vec3 axis,
  double from,
  double to,
  const Collective& comm)
{
  double sums[2] = { 0, 0 };
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    const Vec3 d = points[i] - origin;
    const double t = dot(d, axis);
    if (t >= from && t <= to)
    {
      sums[0] += areas[i] * length(d - t * axis);
      sums[1] += areas[i];
    }
  }
  comm.sum(sums, 2);
  return sums[1] > 0.0 ? sums[0] / sums[1] : 0.0;
}
} // namespace

Thresholds presetThresholds(Preset preset)
{
  switch (preset)
  {
    case Preset::PedicleScrewPlanner:
      return { 130.0, 250.0 };
    case Preset::MimicsAdult:
      return { 148.0, 662.0 };
    case Preset::CTMidpoints:
    case Preset::Custom:
    default:
      return { 150.0, 700.0 };
  }
}

bool otsuThreeClasses(const std::vector<double>& bins,
  double start,
  double width,
  Thresholds& thresholds)
{
  const std::size_t n = bins.size();
  std::vector<double> weight(n + 1, 0.0);
  std::vector<double> moment(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i)
  {
    const double center = start + (i + 0.5) * width;
    weight[i + 1] = weight[i] + bins[i];
    moment[i + 1] = moment[i] + bins[i] * center;
  }
  if (weight[n] <= 0.0)
  {
    return false;
  }
  // Maximising the between-class variance is maximising sum(S_k^2 / W_k) over the classes.
  double best = -1.0;
  std::size_t bestFirst = 0;
  std::size_t bestSecond = 0;
  for (std::size_t first = 1; first < n; ++first)
  {
    const double w0 = weight[first];
    if (w0 <= 0.0)
    {
      continue;
    }
    const double s0 = moment[first];
    for (std::size_t second = first + 1; second < n; ++second)
    {
      const double w1 = weight[second] - w0;
      const double w2 = weight[n] - weight[second];
      if (w1 <= 0.0 || w2 <= 0.0)
      {
        continue;
      }
      const double s1 = moment[second] - s0;
      const double s2 = moment[n] - moment[second];
      const double score = s0 * s0 / w0 + s1 * s1 / w1 + s2 * s2 / w2;
      if (score > best)
      {
        best = score;
        bestFirst = first;
        bestSecond = second;
      }
    }
  }
  if (best < 0.0)
  {
    return false;
  }
  thresholds.cancellous = start + bestFirst * width;
  thresholds.cortical = start + bestSecond * width;
  return true;
}

std::vector<double> vertexAreas(const std::vector<Vec3>& points,
  const std::vector<probe::Triangle>& triangles)
{
  std::vector<double> areas(points.size(), 0.0);
  for (const probe::Triangle& t : triangles)
  {
    const double third =
      length(cross(points[t[1]] - points[t[0]], points[t[2]] - points[t[0]])) / 6.0;
    areas[t[0]] += third;
    areas[t[1]] += third;
    areas[t[2]] += third;
  }
  return areas;
}

std::vector<std::uint8_t> majorityVote(const std::vector<Vec3>& points,
  const std::vector<std::uint8_t>& classes,
  const std::vector<double>& areas,
  double radius,
  const std::vector<Vec3>& neighbourPoints,
  const std::vector<std::uint8_t>& neighbourClasses,
  const std::vector<double>& neighbourAreas)
{
  std::vector<std::uint8_t> result = classes;
  if (!(radius > 0.0) || points.empty())
  {
    return result;
  }
  // A hash grid of cells the size of the radius: neighbours lie in the 27 cells around.
  auto cellOf = [radius](Vec3 p)
  {
    return std::array<std::int64_t, 3>{ static_cast<std::int64_t>(std::floor(p.x / radius)),
      static_cast<std::int64_t>(std::floor(p.y / radius)),
      static_cast<std::int64_t>(std::floor(p.z / radius)) };
  };
  struct CellHash
  {
    std::size_t operator()(const std::array<std::int64_t, 3>& c) const
    {
      return static_cast<std::size_t>((c[0] * 73856093) ^ (c[1] * 19349663) ^ (c[2] * 83492791));
    }
  };
  struct Voter
  {
    Vec3 position;
    std::uint8_t tissue;
    double area;
  };
  std::unordered_map<std::array<std::int64_t, 3>, std::vector<Voter>, CellHash> grid;
  auto add = [&](Vec3 p, std::uint8_t tissue, double area)
  {
    if (tissue != NotSampled)
    {
      grid[cellOf(p)].push_back({ p, tissue, area });
    }
  };
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    add(points[i], classes[i], areas[i]);
  }
  for (std::size_t i = 0; i < neighbourPoints.size(); ++i)
  {
    add(neighbourPoints[i], neighbourClasses[i], neighbourAreas[i]);
  }
  const double radiusSquared = radius * radius;
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    if (classes[i] == NotSampled)
    {
      continue;
    }
    double votes[4] = { 0, 0, 0, 0 };
    const auto center = cellOf(points[i]);
    for (std::int64_t dz = -1; dz <= 1; ++dz)
      for (std::int64_t dy = -1; dy <= 1; ++dy)
        for (std::int64_t dx = -1; dx <= 1; ++dx)
        {
          const auto found = grid.find({ center[0] + dx, center[1] + dy, center[2] + dz });
          if (found == grid.end())
          {
            continue;
          }
          for (const Voter& voter : found->second)
          {
            const Vec3 d = voter.position - points[i];
            if (dot(d, d) <= radiusSquared)
            {
              votes[voter.tissue] += voter.area;
            }
          }
        }
    std::uint8_t winner = classes[i];
    for (std::uint8_t tissue = 1; tissue <= 3; ++tissue)
    {
      if (votes[tissue] > votes[winner])
      {
        winner = tissue;
      }
    }
    result[i] = winner;
  }
  return result;
}

bool automaticThresholds(const std::vector<double>& values,
  const std::vector<double>& areas,
  const Collective& comm,
  Thresholds& thresholds)
{
  constexpr double start = -1024.0;
  constexpr double width = 4.0;
  std::vector<double> bins(1024, 0.0);
  for (std::size_t i = 0; i < values.size(); ++i)
  {
    if (!std::isnan(values[i]))
    {
      const int bin = std::clamp(static_cast<int>((values[i] - start) / width), 0, 1023);
      bins[bin] += areas[i];
    }
  }
  comm.sum(bins.data(), static_cast<int>(bins.size()));
  return otsuThreeClasses(bins, start, width, thresholds);
}

std::vector<std::uint8_t> majorityVoteAcrossRanks(const std::vector<Vec3>& points,
  const std::vector<std::uint8_t>& classes,
  const std::vector<double>& areas,
  double radius,
  const Collective& comm)
{
  std::vector<Vec3> neighbourPoints;
  std::vector<std::uint8_t> neighbourClasses;
  std::vector<double> neighbourAreas;
  if (comm.distributed())
  {
    // This rank's box grown by the radius, to every rank; each sends back its points inside.
    double box[6] = { std::numeric_limits<double>::max(),
      -std::numeric_limits<double>::max(),
      std::numeric_limits<double>::max(),
      -std::numeric_limits<double>::max(),
      std::numeric_limits<double>::max(),
      -std::numeric_limits<double>::max() };
    for (const Vec3& p : points)
    {
      const double c[3] = { p.x, p.y, p.z };
      for (int axis = 0; axis < 3; ++axis)
      {
        box[2 * axis] = std::min(box[2 * axis], c[axis] - radius);
        box[2 * axis + 1] = std::max(box[2 * axis + 1], c[axis] + radius);
      }
    }
    std::vector<vtkIdType> lengths;
    const std::vector<double> boxes = comm.gather(std::vector<double>(box, box + 6), lengths);
    std::vector<std::vector<double>> outgoing(comm.size());
    for (int r = 0; r < comm.size(); ++r)
    {
      if (r == comm.rank())
      {
        continue;
      }
      const double* b = boxes.data() + 6 * r;
      for (std::size_t i = 0; i < points.size(); ++i)
      {
        const Vec3& p = points[i];
        if (p.x >= b[0] && p.x <= b[1] && p.y >= b[2] && p.y <= b[3] && p.z >= b[4] && p.z <= b[5])
        {
          outgoing[r].insert(
            outgoing[r].end(), { p.x, p.y, p.z, static_cast<double>(classes[i]), areas[i] });
        }
      }
    }
    const std::vector<double> incoming = comm.exchange(outgoing);
    for (std::size_t i = 0; i + 4 < incoming.size(); i += 5)
    {
      neighbourPoints.push_back({ incoming[i], incoming[i + 1], incoming[i + 2] });
      neighbourClasses.push_back(static_cast<std::uint8_t>(incoming[i + 3]));
      neighbourAreas.push_back(incoming[i + 4]);
    }
  }
  return majorityVote(
    points, classes, areas, radius, neighbourPoints, neighbourClasses, neighbourAreas);
}

namespace
{
/// The stem's axis from the tip towards the shoulder, through `centroid`, and the range of the
/// points' heights along it ([low, high] about the centroid); "" or the reason it fails.
std::string stemAxis(const std::vector<Vec3>& points,
  const std::vector<probe::Triangle>& triangles,
  const std::vector<double>& areas,
  const FrameOverrides& overrides,
  const Collective& comm,
  Vec3& centroid,
  Vec3& axis,
  double& low,
  double& high)
{
  const std::vector<char> all(points.size(), 1);
  if (!weightedAxis(points, areas, all, comm, centroid, axis))
  {
    return "the surface has no area (no triangles)";
  }
  if (overrides.useAxis)
  {
    axis = normalized(overrides.axis);
    projectionRange(points, centroid, axis, comm, low, high);
    return std::string();
  }
  // The tip is the narrow end.
  projectionRange(points, centroid, axis, comm, low, high);
  const double span = high - low;
  const double bottom = meanSpread(points, areas, centroid, axis, low, low + 0.15 * span, comm);
  const double top = meanSpread(points, areas, centroid, axis, high - 0.15 * span, high, comm);
  if (std::max(top, bottom) < 1.15 * std::min(top, bottom))
  {
    return "both ends of the stem are about as wide, so the tip cannot be told from the "
           "shoulder: set Axis Direction (from the tip towards the shoulder)";
  }
  if (top < bottom)
  {
    axis = -1.0 * axis;
    std::swap(low, high);
    low = -low;
    high = -high;
  }
  // The neck pulls the principal axis of the whole stem: use the distal 60 %, with the
  // surface's moments integrated exactly over its triangles, so that the answer does not
  // depend on where a CAD export happened to put its vertices.
  const double cut = low + 0.6 * (high - low);
  SurfaceMoments moments;
  for (const probe::Triangle& t : triangles)
  {
    const Vec3 a = points[t[0]];
    const Vec3 b = points[t[1]];
    const Vec3 c = points[t[2]];
    if (dot((1.0 / 3.0) * (a + b + c) - centroid, axis) > cut)
    {
      continue;
    }
    moments.addTriangle(a, b, c);
  }
  comm.sum(moments.sums.data(), 10);
  if (moments.area() > 0.0)
  {
    const Vec3 center = moments.centroid();
    const Matrix3 covariance = moments.covariance();
    const Vec3 distalAxis = principalAxis(covariance);
    centroid = center;
    axis = dot(distalAxis, axis) < 0.0 ? -1.0 * distalAxis : distalAxis;
  }
  projectionRange(points, centroid, axis, comm, low, high);
  return std::string();
}

/// Medial: given, or towards the neck, the off-axis mass of the top fifth; "" or the reason it
/// fails.
std::string medialDirection(const std::vector<Vec3>& points,
  const std::vector<double>& areas,
  const FrameOverrides& overrides,
  const Collective& comm,
  StemFrame& frame)
{
  const Vec3 axis = frame.axis;
  if (overrides.useMedial)
  {
    const Vec3 medial = overrides.medial - dot(overrides.medial, axis) * axis;
    if (length(medial) < 1e-9)
    {
      return "Medial Direction is parallel to the stem axis";
    }
    frame.medial = normalized(medial);
    return std::string();
  }
  double sums[5] = { 0, 0, 0, 0, 0 };
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    const Vec3 d = points[i] - frame.tip;
    const double h = dot(d, axis);
    if (h > 0.8 * frame.height)
    {
      const Vec3 off = d - h * axis;
      sums[0] += areas[i] * off.x;
      sums[1] += areas[i] * off.y;
      sums[2] += areas[i] * off.z;
      sums[3] += areas[i] * length(off);
      sums[4] += areas[i];
    }
  }
  comm.sum(sums, 5);
  const Vec3 mean = sums[4] > 0.0 ? (1.0 / sums[4]) * Vec3{ sums[0], sums[1], sums[2] } : Vec3{};
  const double spread = sums[4] > 0.0 ? sums[3] / sums[4] : 0.0;
  if (length(mean) < 0.15 * spread || spread <= 0.0)
  {
    return "the top of the stem is symmetric about its axis, so there is no neck to tell "
           "medial from lateral: set Medial Direction";
  }
  frame.medial = normalized(mean);
  return std::string();
}

/// Anterior: from the side, or from the LPS patient frame (anterior is -y); "" or the reason it
/// fails.
std::string anteriorDirection(const FrameOverrides& overrides, StemFrame& frame)
{
  const Vec3 rightAnterior = normalized(cross(frame.medial, frame.axis));
  if (overrides.side == 2)
  {
    frame.anterior = rightAnterior;
  }
  else if (overrides.side == 1)
  {
    frame.anterior = -1.0 * rightAnterior;
  }
  else
  {
    if (std::abs(rightAnterior.y) < 0.3)
    {
      return "the stem's anterior-posterior direction is far from the patient frame's y axis, "
             "so anterior cannot be read from LPS coordinates: set Side";
    }
    frame.anterior = rightAnterior.y < 0.0 ? rightAnterior : -1.0 * rightAnterior;
  }
  frame.rightSide = dot(frame.anterior, rightAnterior) > 0.0;
  return std::string();
}

/// The calcar's height above the tip, where the medial outline starts leaning into the neck;
/// NaN when it never does.
double calcarHeight(const std::vector<Vec3>& points, const StemFrame& frame, const Collective& comm)
{
  const int binCount = std::max(1, static_cast<int>(std::ceil(frame.height)) + 1);
  std::vector<double> extent(static_cast<std::size_t>(binCount), -Huge);
  for (const Vec3& p : points)
  {
    // Only the medial half: a level with lateral points alone says nothing of the outline.
    const Vec3 d = p - frame.tip;
    const double towardsMedial = dot(d, frame.medial);
    if (towardsMedial > 0.0)
    {
      const int bin = std::clamp(static_cast<int>(dot(d, frame.axis)), 0, binCount - 1);
      extent[bin] = std::max(extent[bin], towardsMedial);
    }
  }
  comm.maximum(extent.data(), binCount);
  std::vector<int> filled;
  for (int bin = 0; bin < binCount; ++bin)
  {
    if (extent[bin] > -Huge)
    {
      filled.push_back(bin);
    }
  }
  // The outline is the upper envelope: a level whose outermost vertex lies on the rounded
  // rim, not at the widest point, would read as a dent. Take the maximum over +-2 mm.
  std::vector<double> envelope(extent.size(), -Huge);
  for (const int bin : filled)
  {
    for (int other = std::max(0, bin - 2); other <= std::min(binCount - 1, bin + 2); ++other)
    {
      envelope[bin] = std::max(envelope[bin], extent[other]);
    }
  }
  for (std::size_t a = 0; a < filled.size(); ++a)
  {
    if (filled[a] < 0.5 * frame.height)
    {
      continue;
    }
    std::size_t b = a + 1;
    while (b < filled.size() && filled[b] - filled[a] < 4)
    {
      ++b;
    }
    if (b >= filled.size())
    {
      break;
    }
    const double slope = (envelope[filled[b]] - envelope[filled[a]]) / (filled[b] - filled[a]);
    if (slope > 0.5)
    {
      return 0.5 * (filled[a] + filled[b]) + 0.5;
    }
  }
  return NaN;
}
} // namespace

StemFrame findStemFrame(const std::vector<Vec3>& points,
  const std::vector<probe::Triangle>& triangles,
  const std::vector<double>& areas,
  const FrameOverrides& overrides,
  const Collective& comm)
{
  StemFrame frame;
  Vec3 centroid;
  Vec3 axis;
  double low = 0.0;
  double high = 0.0;
  frame.problem = stemAxis(points, triangles, areas, overrides, comm, centroid, axis, low, high);
  if (!frame.problem.empty())
  {
    return frame;
  }
  frame.axis = axis;
  frame.tip = centroid + low * axis;
  frame.height = high - low;
  frame.problem = medialDirection(points, areas, overrides, comm, frame);
  if (frame.problem.empty())
  {
    frame.problem = anteriorDirection(overrides, frame);
  }
  if (!frame.problem.empty())
  {
    return frame;
  }
  // Proximal limit: given, or the calcar.
  frame.proximalLimit =
    overrides.proximalLimit >= 0.0 ? overrides.proximalLimit : calcarHeight(points, frame, comm);
  if (std::isnan(frame.proximalLimit))
  {
    frame.problem = "no calcar found (the medial outline never leans into a neck): set "
                    "Proximal Limit";
    return frame;
  }
  frame.valid = true;
  return frame;
}

int zoneOf(Vec3 point, Vec3 normal, const StemFrame& frame, double tipZoneLength, ZoneSet zoneSet)
{
  const double height = dot(point - frame.tip, frame.axis);
  if (height > frame.proximalLimit)
  {
    return 0;
  }
  const double towardsMedial = dot(normal, frame.medial);
  const double towardsAnterior = dot(normal, frame.anterior);
  bool apView;
  switch (zoneSet)
  {
    case ZoneSet::AnteroPosterior:
      apView = true;
      break;
    case ZoneSet::Lateral:
      apView = false;
      break;
    case ZoneSet::Both:
    default:
      apView = std::abs(towardsMedial) >= std::abs(towardsAnterior);
      break;
  }
  if (height < tipZoneLength)
  {
    return apView ? 4 : 11;
  }
  const int third = std::clamp(static_cast<int>(3.0 * height / frame.proximalLimit), 0, 2);
  if (apView)
  {
    return towardsMedial >= 0.0 ? 5 + third : 3 - third;
  }
  return towardsAnterior >= 0.0 ? 10 - third : 12 + third;
}

std::vector<ZoneRow> zoneStatistics(const std::vector<int>& zones,
  const std::vector<double>& values,
  const std::vector<std::uint8_t>& classes,
  const std::vector<double>& areas,
  const std::vector<char>& owned,
  const std::vector<int>& zoneList,
  const Collective& comm,
  const std::vector<double>& interfaceWidths,
  const std::vector<double>& confidences)
{
  // Row r aggregates zone zoneList[r]; zone 0 is every zone below the proximal limit.
  const std::size_t rows = zoneList.size();
  std::map<int, std::size_t> rowOfZone;
  std::size_t wholeRow = rows;
  for (std::size_t r = 0; r < rows; ++r)
  {
    rowOfZone[zoneList[r]] = r;
    if (zoneList[r] == 0)
    {
      wholeRow = r;
    }
  }
  // count, area, valid area, 3 class areas, sum wv, sum wv^2; area with a known interface
  // width, sum w width, area with width >= 1 mm, >= 2 mm; confident area.
  constexpr int Fields = 13;
  std::vector<double> sums(rows * Fields, 0.0);
  std::vector<double> extremes(rows * 2, -Huge); // -min, max
  std::vector<double> samples;                   // (row, value, weight) for the medians
  for (std::size_t i = 0; i < zones.size(); ++i)
  {
    if (zones[i] <= 0)
    {
      continue;
    }
    const auto found = rowOfZone.find(zones[i]);
    for (const std::size_t r : { found != rowOfZone.end() ? found->second : rows, wholeRow })
    {
      if (r >= rows)
      {
        continue;
      }
      double* s = sums.data() + r * Fields;
      s[0] += owned[i] ? 1.0 : 0.0;
      s[1] += areas[i];
      if (i < confidences.size() && confidences[i] >= ConfidentSample)
      {
        s[12] += areas[i];
      }
      if (i < interfaceWidths.size() && std::isfinite(interfaceWidths[i]))
      {
        s[8] += areas[i];
        s[9] += areas[i] * interfaceWidths[i];
        s[10] += interfaceWidths[i] >= 1.0 ? areas[i] : 0.0;
        s[11] += interfaceWidths[i] >= 2.0 ? areas[i] : 0.0;
      }
      const bool valid = classes[i] != NotSampled && !std::isnan(values[i]);
      if (!valid)
      {
        continue;
      }
      s[2] += areas[i];
      s[2 + classes[i]] += areas[i];
      s[6] += areas[i] * values[i];
      s[7] += areas[i] * values[i] * values[i];
      extremes[2 * r] = std::max(extremes[2 * r], -values[i]);
      extremes[2 * r + 1] = std::max(extremes[2 * r + 1], values[i]);
      samples.insert(samples.end(), { static_cast<double>(r), values[i], areas[i] });
    }
  }
  comm.sum(sums.data(), static_cast<int>(sums.size()));
  comm.maximum(extremes.data(), static_cast<int>(extremes.size()));
  const std::vector<double> gathered = comm.gatherToRoot(samples);

  // Area-weighted medians: the lowest value at which the cumulative area reaches half.
  std::vector<std::vector<std::pair<double, double>>> byRow(rows);
  for (std::size_t i = 0; i + 2 < gathered.size(); i += 3)
  {
    byRow[static_cast<std::size_t>(gathered[i])].emplace_back(gathered[i + 1], gathered[i + 2]);
  }
  std::vector<ZoneRow> table(rows);
  for (std::size_t r = 0; r < rows; ++r)
  {
    const double* s = sums.data() + r * Fields;
    ZoneRow& row = table[r];
    row.zone = zoneList[r];
    row.numberOfPoints = static_cast<std::int64_t>(std::llround(s[0]));
    row.area = s[1];
    const double validArea = s[2];
    row.validFraction = s[1] > 0.0 ? validArea / s[1] : NaN;
    row.softTissueFraction = validArea > 0.0 ? s[3] / validArea : NaN;
    row.cancellousFraction = validArea > 0.0 ? s[4] / validArea : NaN;
    row.corticalFraction = validArea > 0.0 ? s[5] / validArea : NaN;
    row.mean = validArea > 0.0 ? s[6] / validArea : NaN;
    row.standardDeviation =
      validArea > 0.0 ? std::sqrt(std::max(0.0, s[7] / validArea - row.mean * row.mean)) : NaN;
    const double widthArea = s[8];
    row.interfaceWidthMean = widthArea > 0.0 ? s[9] / widthArea : NaN;
    row.interfaceOver1mmFraction = widthArea > 0.0 ? s[10] / widthArea : NaN;
    row.interfaceOver2mmFraction = widthArea > 0.0 ? s[11] / widthArea : NaN;
    row.confidentFraction = s[1] > 0.0 ? s[12] / s[1] : NaN;
    row.minimum = validArea > 0.0 ? -extremes[2 * r] : NaN;
    row.maximum = validArea > 0.0 ? extremes[2 * r + 1] : NaN;
    row.median = NaN;
    auto& values = byRow[r];
    if (!values.empty())
    {
      std::sort(values.begin(), values.end());
      double total = 0.0;
      for (const auto& entry : values)
      {
        total += entry.second;
      }
      // When the cumulative area reaches exactly half at a value (a tie, common on symmetric
      // meshes), the median is midway to the next value; the tolerance keeps rounding in the
      // area sums (another rank count, a rotated frame) from choosing a side.
      double cumulative = 0.0;
      for (std::size_t k = 0; k < values.size(); ++k)
      {
        cumulative += values[k].second;
        if (cumulative >= 0.5 * total - 1e-9 * total)
        {
          const bool tie = std::abs(cumulative - 0.5 * total) <= 1e-9 * total;
          row.median = tie && k + 1 < values.size() ? 0.5 * (values[k].first + values[k + 1].first)
                                                    : values[k].first;
          break;
        }
      }
    }
  }
  return table;
}

} // namespace contact
} // namespace ibc
