// SPDX-License-Identifier: BSD-3-Clause
#include "ibcImplantExtract.h"
#include "ibcCollective.h"
#include "ibcLinearAlgebra.h"

#include <vtkMatrix3x3.h>
#include <vtkSMPTools.h>
#include <vtkType.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

namespace ibc
{
namespace extract
{
namespace
{
constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

/// Where the profile falls through `level` (from >= level to < level going outward), the
/// crossing nearest `near`; NaN when it never does.
double downwardCrossing(const std::vector<double>& distances,
  const double* values,
  double level,
  double near)
{
  double best = NaN;
  double bestGap = std::numeric_limits<double>::max();
  for (std::size_t s = 0; s + 1 < distances.size(); ++s)
  {
    const double a = values[s];
    const double b = values[s + 1];
    if (!(a >= level) || !(b < level))
    {
      continue; // also skips NaN
    }
    const double t = distances[s] + (a - level) / (a - b) * (distances[s + 1] - distances[s]);
    if (std::abs(t - near) < bestGap)
    {
      bestGap = std::abs(t - near);
      best = t;
    }
  }
  return best;
}

/// Calls visit(i, j, k, value) for the voxels of `range` (inside the block's extent), x fastest,
/// reading the first of the block's components.
template<typename T, typename Visit>
void visitTyped(const T* data, const probe::VolumeBlock& block, const int range[6], Visit& visit)
{
  const int* extent = block.extent;
  const std::int64_t nx = extent[1] - extent[0] + 1;
  const std::int64_t ny = extent[3] - extent[2] + 1;
  for (int k = range[4]; k <= range[5]; ++k)
  {
    for (int j = range[2]; j <= range[3]; ++j)
    {
      const T* row = data +
        ((static_cast<std::int64_t>(k - extent[4]) * ny + (j - extent[2])) * nx +
          (range[0] - extent[0])) *
          block.components;
      for (int i = range[0]; i <= range[1]; ++i, row += block.components)
      {
        visit(i, j, k, static_cast<double>(*row));
      }
    }
  }
}

/// visitTyped for the block's scalar type.
template<typename Visit>
void visitVoxels(const probe::VolumeBlock& block, const int range[6], Visit&& visit)
{
  switch (block.scalarType)
  {
    vtkTemplateMacro(visitTyped(static_cast<const VTK_TT*>(block.data), block, range, visit));
  }
}

} // namespace

void HighTail::add(double value)
{
  if (!(value >= this->minimumHU))
  {
    return;
  }
  const std::size_t bin = static_cast<std::size_t>(value - this->minimumHU);
  if (bin >= this->counts.size())
  {
    this->counts.resize(bin + 1, 0);
  }
  ++this->counts[bin];
}

std::int64_t HighTail::total() const
{
  std::int64_t sum = 0;
  for (std::int64_t count : this->counts)
  {
    sum += count;
  }
  return sum;
}

MetalLevels metalLevels(const HighTail& tail)
{
  MetalLevels levels;
  const std::int64_t total = tail.total();
  if (total == 0)
  {
    return levels;
  }
  levels.found = true;
  std::size_t top = tail.counts.size() - 1;
  while (top > 0 && tail.counts[top] == 0)
  {
    --top;
  }
  if (tail.counts[top] >= std::max<std::int64_t>(1, total / 20))
  {
    levels.clipped = true;
    levels.clipValue = tail.minimumHU + static_cast<double>(top);
    levels.plateau = levels.clipValue;
  }
  else
  {
    const std::int64_t rank = (total * 9) / 10;
    std::int64_t seen = 0;
    for (std::size_t bin = 0; bin < tail.counts.size(); ++bin)
    {
      seen += tail.counts[bin];
      if (seen > rank)
      {
        levels.plateau = tail.minimumHU + static_cast<double>(bin) + 0.5;
        break;
      }
    }
  }
  levels.threshold = 0.5 * (levels.plateau + tail.minimumHU);
  for (std::size_t bin = 0; bin < tail.counts.size(); ++bin)
  {
    if (tail.minimumHU + static_cast<double>(bin) >= levels.threshold)
    {
      levels.voxels += tail.counts[bin];
    }
  }
  return levels;
}

std::vector<std::uint8_t> solidComponent(const std::vector<std::uint8_t>& mask,
  const std::array<int, 3>& dimensions,
  std::int64_t minimumVoxels,
  bool keepAll,
  int& componentsFound)
{
  const std::int64_t nx = dimensions[0];
  const std::int64_t ny = dimensions[1];
  const std::int64_t nz = dimensions[2];
  const std::int64_t count = nx * ny * nz;
  const std::int64_t steps[6] = { 1, -1, nx, -nx, nx * ny, -nx * ny };
  auto neighbour = [&](std::int64_t index, int direction, std::int64_t& next)
  {
    const std::int64_t i = index % nx;
    const std::int64_t j = (index / nx) % ny;
    const std::int64_t k = index / (nx * ny);
    switch (direction)
    {
      case 0:
        if (i + 1 >= nx)
          return false;
        break;
      case 1:
        if (i == 0)
          return false;
        break;
      case 2:
        if (j + 1 >= ny)
          return false;
        break;
      case 3:
        if (j == 0)
          return false;
        break;
      case 4:
        if (k + 1 >= nz)
          return false;
        break;
      default:
        if (k == 0)
          return false;
        break;
    }
    next = index + steps[direction];
    return true;
  };

  // Label the 6-connected components of the mask (breadth first).
  std::vector<std::int32_t> label(static_cast<std::size_t>(count), 0);
  std::vector<std::int64_t> sizes(1, 0);
  std::vector<std::int64_t> queue;
  for (std::int64_t seed = 0; seed < count; ++seed)
  {
    if (!mask[seed] || label[seed])
    {
      continue;
    }
    const std::int32_t id = static_cast<std::int32_t>(sizes.size());
    sizes.push_back(0);
    queue.assign(1, seed);
    label[seed] = id;
    for (std::size_t head = 0; head < queue.size(); ++head)
    {
      const std::int64_t index = queue[head];
      ++sizes[id];
      for (int direction = 0; direction < 6; ++direction)
      {
        std::int64_t next;
        if (neighbour(index, direction, next) && mask[next] && !label[next])
        {
          label[next] = id;
          queue.push_back(next);
        }
      }
    }
  }
  componentsFound = static_cast<int>(sizes.size()) - 1;

  std::vector<char> keep(sizes.size(), 0);
  if (keepAll)
  {
    for (std::size_t id = 1; id < sizes.size(); ++id)
    {
      keep[id] = sizes[id] >= minimumVoxels;
    }
  }
  else if (sizes.size() > 1)
  {
    const std::size_t largest =
      static_cast<std::size_t>(std::max_element(sizes.begin() + 1, sizes.end()) - sizes.begin());
    keep[largest] = sizes[largest] >= minimumVoxels;
  }

  // Fill cavities: background not reachable from the faces of the box is inside the metal.
  std::vector<std::uint8_t> solid(static_cast<std::size_t>(count), 0);
  for (std::int64_t index = 0; index < count; ++index)
  {
    solid[index] = keep[label[index]] ? 1 : 0;
  }
  std::vector<std::uint8_t> outside(static_cast<std::size_t>(count), 0);
  queue.clear();
  for (std::int64_t index = 0; index < count; ++index)
  {
    const std::int64_t i = index % nx;
    const std::int64_t j = (index / nx) % ny;
    const std::int64_t k = index / (nx * ny);
    const bool onFace = i == 0 || j == 0 || k == 0 || i == nx - 1 || j == ny - 1 || k == nz - 1;
    if (onFace && !solid[index])
    {
      outside[index] = 1;
      queue.push_back(index);
    }
  }
  for (std::size_t head = 0; head < queue.size(); ++head)
  {
    for (int direction = 0; direction < 6; ++direction)
    {
      std::int64_t next;
      if (neighbour(queue[head], direction, next) && !solid[next] && !outside[next])
      {
        outside[next] = 1;
        queue.push_back(next);
      }
    }
  }
  for (std::int64_t index = 0; index < count; ++index)
  {
    solid[index] = outside[index] ? 0 : 1;
  }
  return solid;
}

double normalQuantile(double probability)
{
  if (!(probability > 0.0 && probability < 1.0))
  {
    return probability <= 0.0 ? -std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::infinity();
  }
  // Newton's method on Phi(z) = p, Phi(z) = erfc(-z / sqrt 2) / 2, from a logistic start.
  double z = std::log(probability / (1.0 - probability)) / 1.702;
  for (int iteration = 0; iteration < 60; ++iteration)
  {
    const double phi = 0.5 * std::erfc(-z / std::sqrt(2.0));
    const double density = std::exp(-0.5 * z * z) / std::sqrt(2.0 * 3.14159265358979323846);
    if (density < 1e-300)
    {
      break;
    }
    const double step = (phi - probability) / density;
    z -= std::max(-1.0, std::min(1.0, step));
    if (std::abs(step) < 1e-13)
    {
      break;
    }
  }
  return z;
}

EdgeFit locateEdge(const std::vector<double>& distances,
  const double* values,
  const EdgeModel& model)
{
  EdgeFit fit;
  const double crossing = downwardCrossing(distances, values, model.threshold, 0.0);
  if (std::isnan(crossing))
  {
    return fit;
  }
  fit.crossing = crossing;

  // The metal level: the highest value inside the crossing.
  double plateau = -std::numeric_limits<double>::max();
  for (std::size_t s = 0; s < distances.size() && distances[s] <= crossing; ++s)
  {
    if (!std::isnan(values[s]))
    {
      plateau = std::max(plateau, values[s]);
    }
  }
  // The tissue level just outside, clear of the blurred edge: first measured at a fixed distance,
  // then again beyond three edge widths (the distance from the 60 % to the 20 % level), so a
  // strongly blooming edge does not leak into it.
  auto tissueBeyond = [&](double start)
  {
    std::vector<double> outside;
    for (std::size_t s = 0; s < distances.size(); ++s)
    {
      if (distances[s] >= start && distances[s] <= start + model.outsideLength &&
        !std::isnan(values[s]))
      {
        outside.push_back(values[s]);
      }
    }
    return medianInPlace(outside);
  };
  double tissue = tissueBeyond(crossing + model.outsideStart);
  if (std::isnan(tissue) || !(plateau > tissue) || tissue >= model.threshold)
  {
    return fit;
  }
  {
    const double top = model.clipped ? std::min(plateau, model.clipValue) : plateau;
    const double high =
      downwardCrossing(distances, values, tissue + 0.6 * (top - tissue), crossing);
    const double low = downwardCrossing(distances, values, tissue + 0.2 * (top - tissue), crossing);
    if (!std::isnan(high) && !std::isnan(low) && low > high)
    {
      const double start =
        std::max(model.outsideStart, std::min(model.outsideMaximumStart, 3.0 * (low - high)));
      const double again = tissueBeyond(crossing + start);
      if (!std::isnan(again) && again < model.threshold)
      {
        tissue = again;
      }
    }
  }
  if (!(plateau > tissue))
  {
    return fit;
  }
  fit.outsideHU = tissue;

  const bool plateauClipped = model.clipped && plateau >= model.clipValue - 0.5;
  const double metal = model.metalHU > 0.0 ? model.metalHU : plateau;
  double edge = NaN;
  if (!plateauClipped && (metal + tissue) / 2.0 < plateau)
  {
    // The half-way level is visible: the edge is where the profile crosses it.
    fit.metalHU = metal;
    edge = downwardCrossing(distances, values, 0.5 * (metal + tissue), crossing);
    // The spread from the quartile levels: a Gaussian edge crosses them 1.349 sigma apart.
    const double quarter =
      downwardCrossing(distances, values, tissue + 0.25 * (metal - tissue), crossing);
    const double threeQuarters =
      downwardCrossing(distances, values, tissue + 0.75 * (metal - tissue), crossing);
    if (quarter > threeQuarters)
    {
      fit.sigma = (quarter - threeQuarters) / 1.349;
    }
  }
  else
  {
    // The half-way level is above what the scanner shows: fit the visible tail. Levels between
    // the tissue and the top of the visible profile cross at t = edge - sigma * z(level), with
    // z the normal quantile of the level's share of the full step.
    const double top = plateauClipped ? model.clipValue : plateau;
    // Without a given value: titanium alloy (the common stem material), or, behind a clip that
    // high, the half-way level at the top of what is visible.
    const double assumedMetal = model.metalHU > top
      ? model.metalHU
      : (model.assumedMetalHU > top ? model.assumedMetalHU : 2.0 * top - tissue);
    fit.metalHU = assumedMetal;
    double sumZ = 0.0, sumT = 0.0, sumZZ = 0.0, sumZT = 0.0;
    int used = 0;
    for (double share = 0.2; share <= 0.851; share += 0.05)
    {
      const double level = tissue + share * (top - tissue);
      const double t = downwardCrossing(distances, values, level, crossing);
      if (std::isnan(t))
      {
        continue;
      }
      const double z = normalQuantile((level - tissue) / (assumedMetal - tissue));
      sumZ += z;
      sumT += t;
      sumZZ += z * z;
      sumZT += z * t;
      ++used;
    }
    if (used < 4)
    {
      return fit;
    }
    const double meanZ = sumZ / used;
    const double meanT = sumT / used;
    const double varianceZ = sumZZ / used - meanZ * meanZ;
    if (varianceZ <= 1e-12)
    {
      return fit;
    }
    const double slope = (sumZT / used - meanZ * meanT) / varianceZ; // = -sigma
    if (!(slope < 0.0))
    {
      return fit;
    }
    fit.sigma = -slope;
    edge = meanT - slope * meanZ; // the intercept: t at z = 0
  }
  if (std::isnan(edge) || std::abs(edge - crossing) > model.maximumShift)
  {
    return fit;
  }
  fit.edge = edge;
  fit.valid = true;
  return fit;
}

void smoothOverMesh(std::vector<double>& values,
  std::vector<char>& valid,
  const std::vector<std::array<std::int64_t, 3>>& triangles,
  int iterations)
{
  const std::size_t count = values.size();
  // Neighbour lists from the triangles' edges (each edge seen from both ends).
  std::vector<std::int64_t> starts(count + 1, 0);
  for (const auto& triangle : triangles)
  {
    for (int corner = 0; corner < 3; ++corner)
    {
      starts[triangle[corner] + 1] += 2;
    }
  }
  for (std::size_t v = 0; v < count; ++v)
  {
    starts[v + 1] += starts[v];
  }
  std::vector<std::int64_t> neighbours(static_cast<std::size_t>(starts[count]));
  std::vector<std::int64_t> fill(starts.begin(), starts.end() - 1);
  for (const auto& triangle : triangles)
  {
    for (int corner = 0; corner < 3; ++corner)
    {
      const std::int64_t v = triangle[corner];
      neighbours[fill[v]++] = triangle[(corner + 1) % 3];
      neighbours[fill[v]++] = triangle[(corner + 2) % 3];
    }
  }

  std::vector<double> next(count);
  std::vector<char> nextValid(count);
  for (int iteration = 0; iteration < iterations; ++iteration)
  {
    for (std::size_t v = 0; v < count; ++v)
    {
      double sum = valid[v] ? 2.0 * values[v] : 0.0; // each neighbour appears twice
      double weight = valid[v] ? 2.0 : 0.0;
      for (std::int64_t e = starts[v]; e < starts[v + 1]; ++e)
      {
        const std::int64_t u = neighbours[e];
        if (valid[u])
        {
          sum += values[u];
          weight += 1.0;
        }
      }
      nextValid[v] = weight > 0.0;
      next[v] = weight > 0.0 ? sum / weight : values[v];
    }
    values.swap(next);
    valid.swap(nextValid);
  }
}

Vec3 VolumeGeometry::toPhysical(double i, double j, double k) const
{
  const double scaled[3] = { i * this->spacing[0], j * this->spacing[1], k * this->spacing[2] };
  double p[3];
  for (int row = 0; row < 3; ++row)
  {
    p[row] = this->origin[row] + this->direction[3 * row] * scaled[0] +
      this->direction[3 * row + 1] * scaled[1] + this->direction[3 * row + 2] * scaled[2];
  }
  return { p[0], p[1], p[2] };
}

void VolumeGeometry::physicalToIndex(double matrix[12]) const
{
  double inverse[9];
  vtkMatrix3x3::Invert(this->direction, inverse);
  for (int row = 0; row < 3; ++row)
  {
    double shift = 0.0;
    for (int column = 0; column < 3; ++column)
    {
      matrix[4 * row + column] = inverse[3 * row + column] / this->spacing[row];
      shift += inverse[3 * row + column] * this->origin[column];
    }
    matrix[4 * row + 3] = -shift / this->spacing[row];
  }
}

double VolumeGeometry::voxelVolume() const
{
  return std::abs(vtkMatrix3x3::Determinant(this->direction)) * this->spacing[0] *
    this->spacing[1] * this->spacing[2];
}

HighTail highTailAcrossRanks(const probe::VolumeBlock& block,
  bool hasVoxels,
  double minimumHU,
  const Collective& comm,
  double& maximum)
{
  int owned[6];
  for (int axis = 0; axis < 3; ++axis)
  {
    owned[2 * axis] = block.extent[2 * axis];
    owned[2 * axis + 1] = block.extent[2 * axis + 1] == block.wholeExtent[2 * axis + 1]
      ? block.extent[2 * axis + 1]
      : block.extent[2 * axis + 1] - 1;
  }
  maximum = -std::numeric_limits<double>::max();
  HighTail tail;
  tail.minimumHU = minimumHU;
  const double cap = minimumHU + 1.0e6; // a bound on the counts' length, whatever the data
  if (hasVoxels)
  {
    visitVoxels(block,
      owned,
      [&](int, int, int, double value)
      {
        maximum = std::max(maximum, value);
        tail.add(std::min(value, cap));
      });
  }
  comm.maximum(&maximum, 1);
  if (!(maximum >= minimumHU))
  {
    tail.counts.clear();
    return tail;
  }
  // Every rank's counts to the same length (that of the largest value) before summing.
  tail.counts.resize(static_cast<std::size_t>(std::min(maximum, cap) - minimumHU) + 1, 0);
  comm.sum(tail.counts.data(), static_cast<int>(tail.counts.size()));
  return tail;
}

std::size_t MetalBox::count() const
{
  return static_cast<std::size_t>(this->size[0]) * static_cast<std::size_t>(this->size[1]) *
    static_cast<std::size_t>(this->size[2]);
}

std::size_t MetalBox::index(int i, int j, int k) const
{
  return (static_cast<std::size_t>(k - this->extent[4]) * static_cast<std::size_t>(this->size[1]) +
           static_cast<std::size_t>(j - this->extent[2])) *
    static_cast<std::size_t>(this->size[0]) +
    static_cast<std::size_t>(i - this->extent[0]);
}

MetalBox gatherMetalBox(const probe::VolumeBlock& block,
  bool hasVoxels,
  double threshold,
  const double spacing[3],
  double marginMM,
  const Collective& comm)
{
  // The metal's index bounds over all ranks (as -min, max per axis, so one maximum does).
  double bounds[6] = { -1e300, -1e300, -1e300, -1e300, -1e300, -1e300 };
  if (hasVoxels)
  {
    visitVoxels(block,
      block.extent,
      [&](int i, int j, int k, double value)
      {
        if (value >= threshold)
        {
          const int index[3] = { i, j, k };
          for (int axis = 0; axis < 3; ++axis)
          {
            bounds[2 * axis] = std::max(bounds[2 * axis], -static_cast<double>(index[axis]));
            bounds[2 * axis + 1] = std::max(bounds[2 * axis + 1], static_cast<double>(index[axis]));
          }
        }
      });
  }
  comm.maximum(bounds, 6);
  MetalBox box;
  box.found = bounds[1] > -1e299;
  if (!box.found)
  {
    return box;
  }
  const int* whole = block.wholeExtent;
  for (int axis = 0; axis < 3; ++axis)
  {
    const int margin = static_cast<int>(std::ceil(marginMM / spacing[axis]));
    box.extent[2 * axis] = std::max(whole[2 * axis], static_cast<int>(-bounds[2 * axis]) - margin);
    box.extent[2 * axis + 1] =
      std::min(whole[2 * axis + 1], static_cast<int>(bounds[2 * axis + 1]) + margin);
    box.size[axis] = box.extent[2 * axis + 1] - box.extent[2 * axis] + 1;
  }
  // This rank's part of the box: its extent, then its values.
  std::vector<double> mine;
  if (hasVoxels)
  {
    int part[6];
    bool overlaps = true;
    for (int axis = 0; axis < 3; ++axis)
    {
      part[2 * axis] = std::max(block.extent[2 * axis], box.extent[2 * axis]);
      part[2 * axis + 1] = std::min(block.extent[2 * axis + 1], box.extent[2 * axis + 1]);
      overlaps &= part[2 * axis] <= part[2 * axis + 1];
    }
    if (overlaps)
    {
      mine.assign(part, part + 6);
      visitVoxels(block, part, [&](int, int, int, double value) { mine.push_back(value); });
    }
  }
  const std::vector<double> gathered = comm.distributed() ? comm.gatherToRoot(mine) : mine;
  if (comm.rank() != 0)
  {
    return box;
  }
  box.values.assign(box.count(), std::numeric_limits<float>::quiet_NaN());
  for (std::size_t at = 0; at + 6 <= gathered.size();)
  {
    int part[6];
    for (int c = 0; c < 6; ++c)
    {
      part[c] = static_cast<int>(gathered[at + c]);
    }
    at += 6;
    for (int k = part[4]; k <= part[5]; ++k)
    {
      for (int j = part[2]; j <= part[3]; ++j)
      {
        for (int i = part[0]; i <= part[1]; ++i)
        {
          box.values[box.index(i, j, k)] = static_cast<float>(gathered[at++]);
        }
      }
    }
  }
  return box;
}

EdgeCorrection moveToMetalEdges(const probe::VolumeBlock& box,
  const std::vector<Vec3>& points,
  const std::vector<Vec3>& normals,
  const std::vector<std::array<std::int64_t, 3>>& triangles,
  const EdgeModel& model)
{
  std::vector<double> distances;
  for (int s = 0; s <= 120; ++s)
  {
    distances.push_back(-5.0 + 0.1 * s); // 5 mm into the metal, 7 mm out
  }
  const auto vertexCount = static_cast<std::int64_t>(points.size());
  std::vector<Vec3> bases(points.size());
  std::vector<Vec3> steps(points.size());
  for (std::size_t v = 0; v < points.size(); ++v)
  {
    bases[v] = box.toIndex(points[v]);
    steps[v] = box.directionToIndex(normals[v]);
  }
  const std::size_t samples = distances.size();
  std::vector<double> profiles(points.size() * samples);
  std::vector<std::uint8_t> status(points.size() * samples);
  probe::sampleProfiles(box,
    bases.data(),
    steps.data(),
    vertexCount,
    distances,
    probe::Interpolation::Cubic,
    profiles.data(),
    status.data());

  std::vector<EdgeFit> fits(points.size());
  vtkSMPTools::For(0,
    vertexCount,
    [&](std::int64_t begin, std::int64_t end)
    {
      for (std::int64_t v = begin; v < end; ++v)
      {
        fits[v] = locateEdge(distances, profiles.data() + v * samples, model);
      }
    });
  EdgeCorrection correction;
  correction.shift.assign(points.size(), 0.0);
  std::vector<char> valid(points.size(), 0);
  for (std::size_t v = 0; v < points.size(); ++v)
  {
    valid[v] = fits[v].valid;
    if (fits[v].valid)
    {
      correction.shift[v] = fits[v].edge;
      ++correction.fitted;
      correction.metals.push_back(fits[v].metalHU);
      if (fits[v].sigma > 0.0)
      {
        correction.sigmas.push_back(fits[v].sigma);
      }
    }
  }
  // Each vertex's profile carries CT noise: average the shifts over the neighbours.
  smoothOverMesh(correction.shift, valid, triangles, 3);
  // A blurred curved edge's half-way level lies inside the edge by half the curvature times the
  // blur's variance (see contact::SurfaceCurvature; 0.2 mm on a 5 mm radius with a 1.5 mm
  // spread): put the surface back out by that much, where the spread is known from the tails.
  if (!correction.sigmas.empty())
  {
    std::vector<double> sigmas = correction.sigmas;
    const double sigma = medianInPlace(sigmas);
    const std::vector<contact::SurfaceCurvature> curvatures = probe::surfaceCurvatures(
      points, triangles, normals, Vec3{ 0.0, 0.0, 1.0 }, Collective(nullptr));
    for (std::size_t v = 0; v < points.size(); ++v)
    {
      correction.shift[v] += valid[v] ? curvatures[v].edgeShift(sigma, sigma).at(0.0) : 0.0;
    }
  }
  for (std::size_t v = 0; v < points.size(); ++v)
  {
    if (!valid[v])
    {
      correction.shift[v] = 0.0;
    }
  }
  return correction;
}

} // namespace extract
} // namespace ibc
