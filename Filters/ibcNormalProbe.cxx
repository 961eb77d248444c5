// SPDX-License-Identifier: BSD-3-Clause
#include "ibcNormalProbe.h"

#include "ibcLinearAlgebra.h"

#include <vtkMultiProcessController.h>
#include <vtkSMPTools.h>
#include <vtkSetGet.h> // vtkTemplateMacro
#include <vtkType.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <tuple>
#include <unordered_map>

namespace ibc
{
namespace probe
{

namespace
{
// Automatic mode: a window falling faster than this many slope thresholds is still the metal.
constexpr double FlattestSlopeFactor = 4.0;
// Automatic mode: a slope this much (HU/mm) above the flattest so far marks a tissue boundary.
constexpr double SlopeRise = 100.0;

// Taps of a 1D interpolation at continuous index x, clamped to the whole extent [low, high] (the
// volume's border voxels repeat outward, the same in every piece). Returns the number of taps,
// 0 when x lies outside [low, high].
int axisTaps(double x,
  int low,
  int high,
  Interpolation interpolation,
  int taps[4],
  double weights[4])
{
  if (!(x >= low && x <= high))
  {
    return 0; // also rejects NaN
  }
  switch (interpolation)
  {
    case Interpolation::Nearest:
    {
      taps[0] = std::min(high, static_cast<int>(std::floor(x + 0.5)));
      weights[0] = 1.0;
      return 1;
    }
    case Interpolation::Linear:
    {
      const int base = std::min(static_cast<int>(std::floor(x)), high);
      const double t = x - base;
      taps[0] = base;
      taps[1] = std::min(base + 1, high);
      weights[0] = 1.0 - t;
      weights[1] = t;
      return 2;
    }
    case Interpolation::Cubic:
    default:
    {
      const int base = std::min(static_cast<int>(std::floor(x)), high);
      const double t = x - base;
      const double t2 = t * t;
      const double t3 = t2 * t;
      // Catmull-Rom (Keys, a = -0.5): reproduces quadratics, passes through the voxels.
      weights[0] = -0.5 * t3 + t2 - 0.5 * t;
      weights[1] = 1.5 * t3 - 2.5 * t2 + 1.0;
      weights[2] = -1.5 * t3 + 2.0 * t2 + 0.5 * t;
      weights[3] = 0.5 * t3 - 0.5 * t2;
      for (int tap = 0; tap < 4; ++tap)
      {
        taps[tap] = std::clamp(base - 1 + tap, low, high);
      }
      return 4;
    }
  }
}

// Trilinear interpolation when the whole cell lies inside the block, away from its upper faces
// (the common case), with every constant computed once: the hot loop writes through char-sized
// pointers that could alias a VolumeBlock, so the compiler would otherwise reload it per sample.
// Indices are taken relative to the whole extent's corner, the same in every piece, so that a
// sample gets bit-identical weights whichever MPI rank computes it.
template<typename T>
struct LinearCellSampler
{
  const T* origin; // the block's first voxel
  double low[3];   // block corner, relative to the whole extent's corner
  double high[3];  // block's last cell start + 1, relative to the whole extent's corner
  double whole[3]; // the whole extent's corner
  std::int64_t stride[3];

  LinearCellSampler(const T* data, const VolumeBlock& block)
  {
    const std::int64_t nx = block.extent[1] - block.extent[0] + 1;
    const std::int64_t ny = block.extent[3] - block.extent[2] + 1;
    stride[0] = block.components;
    stride[1] = nx * block.components;
    stride[2] = nx * ny * block.components;
    for (int axis = 0; axis < 3; ++axis)
    {
      whole[axis] = block.wholeExtent[2 * axis];
      low[axis] = block.extent[2 * axis] - block.wholeExtent[2 * axis];
      high[axis] = block.extent[2 * axis + 1] - block.wholeExtent[2 * axis];
    }
    // Shift the base pointer so that whole-relative indices address it directly.
    origin = data - static_cast<std::int64_t>(low[0]) * stride[0] -
      static_cast<std::int64_t>(low[1]) * stride[1] - static_cast<std::int64_t>(low[2]) * stride[2];
  }

  struct Located
  {
    Vec3 index;
    const T* cell = nullptr;
    double tx = 0.0;
    double ty = 0.0;
    double tz = 0.0;
    bool inside = false;
  };

  /// Finds the cell of located.index and asks the memory system for it; inside is false when
  /// the cell is not (entirely) in the block.
  void locate(Located& located) const
  {
    const double rx = located.index.x - whole[0];
    const double ry = located.index.y - whole[1];
    const double rz = located.index.z - whole[2];
    located.inside =
      rx >= low[0] && ry >= low[1] && rz >= low[2] && rx < high[0] && ry < high[1] && rz < high[2];
    if (!located.inside)
    {
      return;
    }
    const auto ix = static_cast<std::int64_t>(rx);
    const auto iy = static_cast<std::int64_t>(ry);
    const auto iz = static_cast<std::int64_t>(rz);
    located.cell = origin + ix * stride[0] + iy * stride[1] + iz * stride[2];
    located.tx = rx - static_cast<double>(ix);
    located.ty = ry - static_cast<double>(iy);
    located.tz = rz - static_cast<double>(iz);
    __builtin_prefetch(located.cell);
    __builtin_prefetch(located.cell + stride[1]);
    __builtin_prefetch(located.cell + stride[2]);
    __builtin_prefetch(located.cell + stride[2] + stride[1]);
  }

  /// Trilinear blend of a located cell (same arithmetic as sample()).
  double blend(const Located& located) const
  {
    const T* p = located.cell;
    const std::int64_t sx = stride[0];
    const std::int64_t sy = stride[1];
    const std::int64_t sz = stride[2];
    const double tx = located.tx;
    const double v00 = p[0] + tx * (static_cast<double>(p[sx]) - p[0]);
    const double v10 = p[sy] + tx * (static_cast<double>(p[sy + sx]) - p[sy]);
    const double v01 = p[sz] + tx * (static_cast<double>(p[sz + sx]) - p[sz]);
    const double v11 = p[sz + sy] + tx * (static_cast<double>(p[sz + sy + sx]) - p[sz + sy]);
    const double v0 = v00 + located.ty * (v10 - v00);
    const double v1 = v01 + located.ty * (v11 - v01);
    return v0 + located.tz * (v1 - v0);
  }

  bool sample(Vec3 index, double& value) const
  {
    const double rx = index.x - whole[0];
    const double ry = index.y - whole[1];
    const double rz = index.z - whole[2];
    // Compared as doubles first: NaN fails, and nothing out of range becomes an integer.
    if (!(rx >= low[0] && ry >= low[1] && rz >= low[2] && rx < high[0] && ry < high[1] &&
          rz < high[2]))
    {
      return false;
    }
    const auto ix = static_cast<std::int64_t>(rx);
    const auto iy = static_cast<std::int64_t>(ry);
    const auto iz = static_cast<std::int64_t>(rz);
    const std::int64_t sx = stride[0];
    const std::int64_t sy = stride[1];
    const std::int64_t sz = stride[2];
    const T* p = origin + ix * sx + iy * sy + iz * sz;
    const double tx = rx - static_cast<double>(ix);
    const double ty = ry - static_cast<double>(iy);
    const double tz = rz - static_cast<double>(iz);
    const double v00 = p[0] + tx * (static_cast<double>(p[sx]) - p[0]);
    const double v10 = p[sy] + tx * (static_cast<double>(p[sy + sx]) - p[sy]);
    const double v01 = p[sz] + tx * (static_cast<double>(p[sz + sx]) - p[sz]);
    const double v11 = p[sz + sy] + tx * (static_cast<double>(p[sz + sy + sx]) - p[sz + sy]);
    const double v0 = v00 + ty * (v10 - v00);
    const double v1 = v01 + ty * (v11 - v01);
    value = v0 + tz * (v1 - v0);
    return true;
  }

  /// Asks the memory system early for the cell of a sample that comes a few vertices later.
  void prefetch(Vec3 index) const
  {
    const double rx = index.x - whole[0];
    const double ry = index.y - whole[1];
    const double rz = index.z - whole[2];
    if (rx >= low[0] && ry >= low[1] && rz >= low[2] && rx < high[0] && ry < high[1] &&
      rz < high[2])
    {
      const T* p = origin + static_cast<std::int64_t>(rx) * stride[0] +
        static_cast<std::int64_t>(ry) * stride[1] + static_cast<std::int64_t>(rz) * stride[2];
      __builtin_prefetch(p);
      __builtin_prefetch(p + stride[1]);
      __builtin_prefetch(p + stride[2]);
      __builtin_prefetch(p + stride[2] + stride[1]);
    }
  }
};

template<typename T>
bool interpolateTyped(const T* data,
  const VolumeBlock& block,
  Vec3 index,
  Interpolation interpolation,
  double& value)
{
  if (interpolation == Interpolation::Linear &&
    LinearCellSampler<T>(data, block).sample(index, value))
  {
    return true;
  }
  int taps[3][4];
  double weights[3][4];
  int counts[3];
  const double coordinates[3] = { index.x, index.y, index.z };
  for (int axis = 0; axis < 3; ++axis)
  {
    counts[axis] = axisTaps(coordinates[axis],
      block.wholeExtent[2 * axis],
      block.wholeExtent[2 * axis + 1],
      interpolation,
      taps[axis],
      weights[axis]);
    if (counts[axis] == 0 || taps[axis][0] < block.extent[2 * axis] ||
      taps[axis][counts[axis] - 1] > block.extent[2 * axis + 1])
    {
      return false;
    }
  }
  const std::int64_t nx = block.extent[1] - block.extent[0] + 1;
  const std::int64_t ny = block.extent[3] - block.extent[2] + 1;
  const int components = block.components;
  double sum = 0.0;
  for (int c = 0; c < counts[2]; ++c)
  {
    const std::int64_t kOffset = (taps[2][c] - block.extent[4]) * ny;
    double sumY = 0.0;
    for (int b = 0; b < counts[1]; ++b)
    {
      const T* row =
        data + ((kOffset + taps[1][b] - block.extent[2]) * nx - block.extent[0]) * components;
      double sumX = 0.0;
      for (int a = 0; a < counts[0]; ++a)
      {
        sumX += weights[0][a] *
          static_cast<double>(row[static_cast<std::int64_t>(taps[0][a]) * components]);
      }
      sumY += weights[1][b] * sumX;
    }
    sum += weights[2][c] * sumY;
  }
  value = sum;
  return true;
}

// The loop is bound by memory latency and the samples of different vertices are independent:
// prefetch the cell of the vertex this many steps ahead.
constexpr std::int64_t PrefetchDistance = 16;

template<typename T>
void sampleProfilesTyped(const T* data,
  const VolumeBlock& block,
  const Vec3* baseIndices,
  const Vec3* indexSteps,
  std::int64_t vertexCount,
  const std::vector<double>& distances,
  Interpolation interpolation,
  double* values,
  std::uint8_t* status)
{
  const auto samples = static_cast<std::int64_t>(distances.size());
  const double firstDistance = distances.empty() ? 0.0 : distances.front();
  const LinearCellSampler<T> linear(data, block);
  const bool isLinear = interpolation == Interpolation::Linear;
  vtkSMPTools::For(0,
    vertexCount,
    [&](std::int64_t begin, std::int64_t end)
    {
      const LinearCellSampler<T> cell = linear; // a local copy: no aliasing with the outputs
      double* __restrict outValues = values;
      std::uint8_t* __restrict outStatus = status;
      if (samples == 1 && isLinear)
      {
        // The single-offset case, the hottest loop of all. Each cell is located (and its
        // memory requested) PrefetchDistance vertices before it is interpolated; a small ring
        // keeps the located cells in between.
        typename LinearCellSampler<T>::Located ring[PrefetchDistance];
        auto locate = [&](std::int64_t vertex, typename LinearCellSampler<T>::Located& located)
        {
          const Vec3 base = baseIndices[vertex];
          const Vec3 step = indexSteps[vertex];
          located.index = { base.x + firstDistance * step.x,
            base.y + firstDistance * step.y,
            base.z + firstDistance * step.z };
          cell.locate(located);
        };
        for (std::int64_t vertex = begin; vertex < std::min(end, begin + PrefetchDistance);
             ++vertex)
        {
          locate(vertex, ring[vertex % PrefetchDistance]);
        }
        for (std::int64_t vertex = begin; vertex < end; ++vertex)
        {
          typename LinearCellSampler<T>::Located& slot = ring[vertex % PrefetchDistance];
          const typename LinearCellSampler<T>::Located current = slot;
          if (vertex + PrefetchDistance < end)
          {
            locate(vertex + PrefetchDistance, slot);
          }
          double value;
          if (current.inside)
          {
            outValues[vertex] = cell.blend(current);
            outStatus[vertex] = Sampled;
          }
          else if (interpolateTyped(data, block, current.index, interpolation, value))
          {
            outValues[vertex] = value;
            outStatus[vertex] = Sampled;
          }
          else
          {
            outValues[vertex] = std::numeric_limits<double>::quiet_NaN();
            outStatus[vertex] =
              block.insideWholeExtent(current.index) ? InOtherBlock : OutsideVolume;
          }
        }
        return;
      }
      for (std::int64_t vertex = begin; vertex < end; ++vertex)
      {
        if (vertex + PrefetchDistance < end)
        {
          const Vec3 ahead = baseIndices[vertex + PrefetchDistance];
          const Vec3 aheadStep = indexSteps[vertex + PrefetchDistance];
          cell.prefetch({ ahead.x + firstDistance * aheadStep.x,
            ahead.y + firstDistance * aheadStep.y,
            ahead.z + firstDistance * aheadStep.z });
        }
        const Vec3 base = baseIndices[vertex];
        const Vec3 step = indexSteps[vertex];
        for (std::int64_t s = 0; s < samples; ++s)
        {
          const double t = distances[s];
          const Vec3 index{ base.x + t * step.x, base.y + t * step.y, base.z + t * step.z };
          const std::int64_t slot = vertex * samples + s;
          double value = std::numeric_limits<double>::quiet_NaN();
          std::uint8_t state = Sampled;
          if (!((isLinear && cell.sample(index, value)) ||
                interpolateTyped(data, block, index, interpolation, value)))
          {
            state = block.insideWholeExtent(index) ? InOtherBlock : OutsideVolume;
            value = std::numeric_limits<double>::quiet_NaN();
          }
          outValues[slot] = value;
          outStatus[slot] = state;
        }
      }
    });
}

// Metal Corrected mode samples every this many mm.
constexpr double MetalCorrectedStep = 0.1;

/// first, first + step, ... up to last (inclusive, to rounding).
std::vector<double> evenSteps(double first, double last, double step)
{
  const auto count = static_cast<int>(std::lround((last - first) / step)) + 1;
  std::vector<double> result(static_cast<std::size_t>(std::max(count, 1)));
  for (std::size_t i = 0; i < result.size(); ++i)
  {
    result[i] = first + step * static_cast<double>(i);
  }
  return result;
}
} // namespace

int stencilReach(Interpolation interpolation)
{
  return interpolation == Interpolation::Cubic ? 2 : 1;
}

Vec3 VolumeBlock::toIndex(Vec3 world) const
{
  const double* m = this->physicalToIndex;
  return { m[0] * world.x + m[1] * world.y + m[2] * world.z + m[3],
    m[4] * world.x + m[5] * world.y + m[6] * world.z + m[7],
    m[8] * world.x + m[9] * world.y + m[10] * world.z + m[11] };
}

Vec3 VolumeBlock::directionToIndex(Vec3 direction) const
{
  const double* m = this->physicalToIndex;
  return { m[0] * direction.x + m[1] * direction.y + m[2] * direction.z,
    m[4] * direction.x + m[5] * direction.y + m[6] * direction.z,
    m[8] * direction.x + m[9] * direction.y + m[10] * direction.z };
}

bool VolumeBlock::containsStencil(Vec3 index, Interpolation interpolation) const
{
  const double coordinates[3] = { index.x, index.y, index.z };
  for (int axis = 0; axis < 3; ++axis)
  {
    int taps[4];
    double weights[4];
    const int count = axisTaps(coordinates[axis],
      this->wholeExtent[2 * axis],
      this->wholeExtent[2 * axis + 1],
      interpolation,
      taps,
      weights);
    if (count == 0 || taps[0] < this->extent[2 * axis] ||
      taps[count - 1] > this->extent[2 * axis + 1])
    {
      return false;
    }
  }
  return true;
}

bool VolumeBlock::insideWholeExtent(Vec3 index) const
{
  return index.x >= this->wholeExtent[0] && index.x <= this->wholeExtent[1] &&
    index.y >= this->wholeExtent[2] && index.y <= this->wholeExtent[3] &&
    index.z >= this->wholeExtent[4] && index.z <= this->wholeExtent[5];
}

bool interpolate(const VolumeBlock& block, Vec3 index, Interpolation interpolation, double& value)
{
  if (!block.data)
  {
    return false;
  }
  switch (block.scalarType)
  {
    vtkTemplateMacro(return interpolateTyped(
      static_cast<const VTK_TT*>(block.data), block, index, interpolation, value));
    default:
      return false;
  }
}

void sampleProfiles(const VolumeBlock& block,
  const Vec3* baseIndices,
  const Vec3* indexSteps,
  std::int64_t vertexCount,
  const std::vector<double>& distances,
  Interpolation interpolation,
  double* values,
  std::uint8_t* status)
{
  if (!block.data)
  {
    for (std::int64_t slot = 0; slot < vertexCount * static_cast<std::int64_t>(distances.size());
         ++slot)
    {
      const std::int64_t vertex = slot / static_cast<std::int64_t>(distances.size());
      const double t = distances[slot % static_cast<std::int64_t>(distances.size())];
      const Vec3 index = baseIndices[vertex] + t * indexSteps[vertex];
      values[slot] = std::numeric_limits<double>::quiet_NaN();
      status[slot] = block.insideWholeExtent(index) ? InOtherBlock : OutsideVolume;
    }
    return;
  }
  switch (block.scalarType)
  {
    vtkTemplateMacro(sampleProfilesTyped(static_cast<const VTK_TT*>(block.data),
      block,
      baseIndices,
      indexSteps,
      vertexCount,
      distances,
      interpolation,
      values,
      status));
    default:
      break;
  }
}

void sampleProfilesAcrossRanks(const VolumeBlock& block,
  bool hasVoxels,
  const Vec3* baseIndices,
  const Vec3* indexSteps,
  std::int64_t vertexCount,
  const std::vector<double>& distances,
  Interpolation interpolation,
  const Collective& comm,
  double* values,
  std::uint8_t* status)
{
  sampleProfiles(
    block, baseIndices, indexSteps, vertexCount, distances, interpolation, values, status);
  if (!comm.distributed())
  {
    return;
  }
  const int size = comm.size();
  const int rank = comm.rank();
  const auto samples = static_cast<std::int64_t>(distances.size());
  std::vector<vtkIdType> lengths;
  std::vector<double> myExtent(block.extent, block.extent + 6);
  if (!hasVoxels)
  {
    myExtent = { 0, -1, 0, -1, 0, -1 };
  }
  const std::vector<double> extents = comm.gather(myExtent, lengths);
  // Which rank holds each sample this rank could not take.
  std::vector<std::vector<double>> requests(size);
  std::vector<std::vector<std::int64_t>> slots(size);
  for (std::int64_t slot = 0; slot < vertexCount * samples; ++slot)
  {
    if (status[slot] != InOtherBlock)
    {
      continue;
    }
    const Vec3 index =
      baseIndices[slot / samples] + distances[slot % samples] * indexSteps[slot / samples];
    VolumeBlock candidate = block;
    for (int owner = 0; owner < size; ++owner)
    {
      for (int i = 0; i < 6; ++i)
      {
        candidate.extent[i] = static_cast<int>(extents[6 * owner + i]);
      }
      if (owner != rank && candidate.containsStencil(index, interpolation))
      {
        requests[owner].insert(requests[owner].end(), { index.x, index.y, index.z });
        slots[owner].push_back(slot);
        break;
      }
    }
  }
  // How many samples every rank asks of every other.
  std::vector<double> myCounts(size);
  for (int r = 0; r < size; ++r)
  {
    myCounts[r] = static_cast<double>(slots[r].size());
  }
  const std::vector<double> counts = comm.gather(myCounts, lengths);
  // Exchanges one pair at a time, in the same order on every rank: no deadlock.
  vtkMultiProcessController* controller = comm.controller();
  constexpr int requestTag = 98610;
  constexpr int replyTag = 98611;
  for (int from = 0; from < size; ++from)
  {
    for (int to = 0; to < size; ++to)
    {
      const auto count = static_cast<vtkIdType>(counts[static_cast<std::size_t>(from) * size + to]);
      if (from == to || count == 0 || (rank != from && rank != to))
      {
        continue;
      }
      if (rank == from)
      {
        controller->Send(requests[to].data(), 3 * count, to, requestTag);
        std::vector<double> answers(static_cast<std::size_t>(count));
        controller->Receive(answers.data(), count, to, replyTag);
        for (vtkIdType i = 0; i < count; ++i)
        {
          const std::int64_t slot = slots[to][i];
          values[slot] = answers[i];
          status[slot] = std::isnan(answers[i]) ? OutsideVolume : Sampled;
        }
      }
      else
      {
        std::vector<double> asked(static_cast<std::size_t>(3 * count));
        controller->Receive(asked.data(), 3 * count, from, requestTag);
        std::vector<Vec3> positions(static_cast<std::size_t>(count));
        for (vtkIdType i = 0; i < count; ++i)
        {
          positions[i] = { asked[3 * i], asked[3 * i + 1], asked[3 * i + 2] };
        }
        const std::vector<Vec3> noSteps(positions.size());
        std::vector<double> answers(positions.size());
        std::vector<std::uint8_t> answerStatus(positions.size());
        sampleProfiles(block,
          positions.data(),
          noSteps.data(),
          count,
          { 0.0 },
          interpolation,
          answers.data(),
          answerStatus.data());
        controller->Send(answers.data(), count, from, replyTag);
      }
    }
  }
}

contact::ProfileSampling profileSampling(const VolumeBlock& block,
  Vec3 base,
  Vec3 step,
  Interpolation interpolation)
{
  contact::ProfileSampling sampling;
  sampling.kind = interpolation == Interpolation::Linear ? contact::ProfileSampling::Linear
    : interpolation == Interpolation::Nearest            ? contact::ProfileSampling::Nearest
                                                         : contact::ProfileSampling::Point;
  const double baseIndex[3] = { base.x, base.y, base.z };
  const double stepIndex[3] = { step.x, step.y, step.z };
  for (int axis = 0; axis < 3; ++axis)
  {
    // A voxel one index step away along this axis lies spacing^2 * step mm farther along the
    // normal (the normal in index units is step = spacing^-1 D^T n).
    const double* row = block.physicalToIndex + 4 * axis;
    const double inverseSpacing2 = row[0] * row[0] + row[1] * row[1] + row[2] * row[2];
    sampling.base[axis] = baseIndex[axis];
    sampling.step[axis] = stepIndex[axis];
    sampling.mmPerIndex[axis] = inverseSpacing2 > 0.0 ? stepIndex[axis] / inverseSpacing2 : 0.0;
  }
  return sampling;
}

std::vector<double> sliceComponents(const VolumeBlock& block, const std::vector<Vec3>& normals)
{
  const double* row = block.physicalToIndex + 8;
  const double rowLength = std::sqrt(row[0] * row[0] + row[1] * row[1] + row[2] * row[2]);
  std::vector<double> result(normals.size(), 0.0);
  for (std::size_t i = 0; i < normals.size(); ++i)
  {
    const Vec3& n = normals[i];
    result[i] = rowLength > 0.0
      ? std::min(1.0, std::abs(row[0] * n.x + row[1] * n.y + row[2] * n.z) / rowLength)
      : 0.0;
  }
  return result;
}

contact::MetalModel fitMetalAcrossRanks(const VolumeBlock& block,
  bool hasVoxels,
  const std::vector<Vec3>& points,
  const std::vector<Triangle>& triangles,
  const std::vector<Vec3>& baseIndices,
  const std::vector<Vec3>& indexSteps,
  const std::vector<double>& sliceComponents,
  const std::vector<contact::SurfaceCurvature>& curvatures,
  const std::vector<double>& distances,
  Interpolation interpolation,
  const Collective& comm,
  std::int64_t fitProfileTarget)
{
  // The rate from the number of distinct points, so that a distributed surface's cut points,
  // held by two ranks, do not change it.
  std::int64_t total = static_cast<std::int64_t>(points.size());
  if (comm.distributed())
  {
    const std::vector<char> owned = ownedPoints(points,
      openEdgeVertices(static_cast<std::int64_t>(points.size()), triangles), comm);
    total = std::count(owned.begin(), owned.end(), 1);
  }
  comm.sum(&total, 1);
  const double rate =
    total > 0 ? static_cast<double>(fitProfileTarget) / static_cast<double>(total) : 1.0;
  std::vector<std::size_t> chosen;
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    const double p[3] = { points[i].x, points[i].y, points[i].z };
    if (contact::selectedForFit(p, rate))
    {
      chosen.push_back(i);
    }
  }
  std::vector<Vec3> chosenBases(chosen.size());
  std::vector<Vec3> chosenSteps(chosen.size());
  for (std::size_t c = 0; c < chosen.size(); ++c)
  {
    chosenBases[c] = baseIndices[chosen[c]];
    chosenSteps[c] = indexSteps[chosen[c]];
  }
  // The fit reads the nearest voxels, whatever the interpolation: a sample interpolated between
  // a clipped voxel and the next reads low by an amount the model cannot know.
  (void)interpolation;
  const Interpolation fitInterpolation = interpolation;
  const std::size_t samples = distances.size();
  std::vector<double> values(chosen.size() * samples);
  std::vector<std::uint8_t> status(values.size());
  sampleProfilesAcrossRanks(block,
    hasVoxels,
    chosenBases.data(),
    chosenSteps.data(),
    static_cast<std::int64_t>(chosen.size()),
    distances,
    fitInterpolation,
    comm,
    values.data(),
    status.data());

  // Every rank's records, sorted by coordinates; a point on the cut between two surface pieces
  // is kept once.
  // Records (x, y, z, slice component, sampling kind, base, step, mm per index, curvature,
  // samples...).
  constexpr std::size_t Header = 18;
  const std::size_t width = Header + samples;
  std::vector<double> mine;
  mine.reserve(chosen.size() * width);
  for (std::size_t c = 0; c < chosen.size(); ++c)
  {
    const Vec3& p = points[chosen[c]];
    const contact::ProfileSampling sampling =
      profileSampling(block, chosenBases[c], chosenSteps[c], fitInterpolation);
    mine.insert(mine.end(),
      { p.x, p.y, p.z, sliceComponents[chosen[c]], static_cast<double>(sampling.kind) });
    mine.insert(mine.end(), sampling.base, sampling.base + 3);
    mine.insert(mine.end(), sampling.step, sampling.step + 3);
    mine.insert(mine.end(), sampling.mmPerIndex, sampling.mmPerIndex + 3);
    const contact::SurfaceCurvature& curvature = curvatures[chosen[c]];
    mine.insert(mine.end(), curvature.principal, curvature.principal + 2);
    mine.insert(mine.end(), curvature.sliceShare, curvature.sliceShare + 2);
    mine.insert(mine.end(), values.begin() + c * samples, values.begin() + (c + 1) * samples);
  }
  std::vector<double> all = mine;
  if (comm.distributed())
  {
    std::vector<vtkIdType> lengths;
    all = comm.gather(mine, lengths);
  }
  const std::size_t records = all.size() / width;
  std::vector<std::size_t> order(records);
  for (std::size_t r = 0; r < records; ++r)
  {
    order[r] = r;
  }
  auto key = [&](std::size_t r) { return std::tie(all[r * width], all[r * width + 1], all[r * width + 2]); };
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  contact::FitProfiles profiles;
  profiles.distances = distances;
  for (std::size_t k = 0; k < records; ++k)
  {
    if (k > 0 && key(order[k]) == key(order[k - 1]))
    {
      continue;
    }
    const double* record = all.data() + order[k] * width;
    profiles.sliceComponents.push_back(record[3]);
    contact::ProfileSampling sampling;
    sampling.kind = static_cast<int>(record[4]);
    std::copy(record + 5, record + 8, sampling.base);
    std::copy(record + 8, record + 11, sampling.step);
    std::copy(record + 11, record + 14, sampling.mmPerIndex);
    std::copy(record + 14, record + 16, sampling.curvature.principal);
    std::copy(record + 16, record + 18, sampling.curvature.sliceShare);
    profiles.samplings.push_back(sampling);
    profiles.values.insert(profiles.values.end(), record + Header, record + width);
  }
  contact::FitOptions options;
  const double* rows = block.physicalToIndex;
  auto spacingOf = [&](int axis)
  {
    const double* r = rows + 4 * axis;
    const double length = std::sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
    return length > 0.0 ? 1.0 / length : 1.0;
  };
  options.inPlaneSpacing = 0.5 * (spacingOf(0) + spacingOf(1));
  options.sliceSpacing = spacingOf(2);
  return contact::fitMetalModel(profiles, options);
}

std::vector<double> SamplingPlan::fitDistances() const
{
  // From inside the metal, where the fit sees its plateau, to where its tail has faded (the fit
  // reads -3 to 3 mm; the residual it leaves is measured out to 6 mm).
  return evenSteps(-3.0, 6.0, MetalCorrectedStep);
}

std::vector<double> SamplingPlan::distances() const
{
  if (this->mode == Mode::MetalCorrected)
  {
    // Fine steps from the surface out to profileEnd; the fit reads fitDistances().
    return evenSteps(0.0, std::max(this->profileEnd, 1.0), MetalCorrectedStep);
  }
  if (this->mode == Mode::SingleOffset)
  {
    return { this->offset };
  }
  const int count = std::max(1, this->profileSamples);
  std::vector<double> result(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i)
  {
    result[i] = count == 1
      ? this->profileStart
      : this->profileStart + (this->profileEnd - this->profileStart) * i / (count - 1);
  }
  return result;
}

ProfileResult reduceProfile(const std::vector<double>& distances,
  const double* values,
  Mode mode,
  const AutomaticRule& rule)
{
  ProfileResult result;
  const std::size_t count = distances.size();
  if (count == 0)
  {
    return result;
  }
  if (mode == Mode::Automatic)
  {
    // Walk outward from the brightest sample (the metal), and stop where the profile no longer
    // falls faster than slopeThreshold over slopeWindow: the metal's spread has then faded to a
    // few HU. The value is the median of the band [end + margin, end + margin + bandWidth].
    std::size_t peak = 0;
    for (std::size_t i = 0; i < count / 2 + 1 && i < count; ++i)
    {
      if (std::isnan(values[i]))
      {
        return result;
      }
      if (values[i] > values[peak])
      {
        peak = i;
      }
    }
    const double step = count > 1 ? (distances.back() - distances.front()) / (count - 1) : 1.0;
    const auto window =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(rule.slopeWindow / step)));
    // When the tissue itself changes right behind a slowly fading edge (cortical contact with
    // cancellous bone 5 mm out), no window is that flat: take the flattest window whose band
    // still fits in the profile.
    const double lastBandStart = distances.back() - rule.bandWidth - rule.margin;
    double fallOffEnd = std::numeric_limits<double>::quiet_NaN();
    double flattest = std::numeric_limits<double>::max();
    double flattestAt = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t i = peak; i + window < count; ++i)
    {
      if (std::isnan(values[i]) || std::isnan(values[i + window]))
      {
        return result;
      }
      const double slope =
        (values[i] - values[i + window]) / (distances[i + window] - distances[i]);
      if (slope < rule.slopeThreshold)
      {
        fallOffEnd = distances[i];
        break;
      }
      if (slope < flattest)
      {
        if (distances[i] <= lastBandStart + 1e-9)
        {
          flattest = slope;
          flattestAt = distances[i];
        }
      }
      else if (slope > flattest + SlopeRise && flattest < FlattestSlopeFactor * rule.slopeThreshold)
      {
        break; // the profile steepens again: a tissue boundary, not metal; keep the flattest
      }
    }
    if (std::isnan(fallOffEnd) && flattest < FlattestSlopeFactor * rule.slopeThreshold)
    {
      fallOffEnd = flattestAt;
    }
    if (std::isnan(fallOffEnd))
    {
      return result; // the metal fall-off does not end within the profile
    }
    const double bandStart = fallOffEnd + rule.margin;
    const double bandEnd = bandStart + rule.bandWidth;
    std::vector<double> band;
    for (std::size_t i = 0; i < count; ++i)
    {
      if (distances[i] >= bandStart - 1e-9 && distances[i] <= bandEnd + 1e-9)
      {
        if (std::isnan(values[i]))
        {
          return result;
        }
        band.push_back(values[i]);
      }
    }
    if (band.empty())
    {
      return result; // the band runs past the profile's end
    }
    result.value = medianInPlace(band);
    result.distance = 0.5 * (bandStart + bandEnd);
    result.valid = true;
    return result;
  }

  // The other modes need the whole profile.
  for (std::size_t i = 0; i < count; ++i)
  {
    if (std::isnan(values[i]))
    {
      return result;
    }
  }
  result.valid = true;
  switch (mode)
  {
    case Mode::SingleOffset:
      result.value = values[0];
      result.distance = distances[0];
      break;
    case Mode::ProfileMaximum:
    {
      const auto best = std::max_element(values, values + count) - values;
      result.value = values[best];
      result.distance = distances[best];
      break;
    }
    case Mode::ProfileMean:
    {
      double sum = 0.0;
      for (std::size_t i = 0; i < count; ++i)
      {
        sum += values[i];
      }
      result.value = sum / count;
      result.distance = 0.5 * (distances.front() + distances.back());
      break;
    }
    case Mode::ProfileMedian:
    default:
    {
      std::vector<double> copy(values, values + count);
      result.value = medianInPlace(copy);
      result.distance = 0.5 * (distances.front() + distances.back());
      break;
    }
  }
  return result;
}

VertexTriangles::VertexTriangles(std::int64_t vertexCount, const std::vector<Triangle>& triangles)
  : Triangles(triangles)
  , Starts(static_cast<std::size_t>(vertexCount) + 1, 0)
  , Entries(3 * triangles.size())
{
  for (const Triangle& triangle : triangles)
  {
    for (const std::int64_t vertex : triangle)
    {
      ++this->Starts[vertex + 1];
    }
  }
  for (std::int64_t v = 0; v < vertexCount; ++v)
  {
    this->Starts[v + 1] += this->Starts[v];
  }
  std::vector<std::int64_t> next(this->Starts.begin(), this->Starts.end() - 1);
  for (std::size_t t = 0; t < triangles.size(); ++t)
  {
    for (const std::int64_t vertex : triangles[t])
    {
      this->Entries[next[vertex]++] = static_cast<std::int64_t>(t);
    }
  }
}

int VertexTriangles::trianglesAcross(std::int64_t triangle,
  std::int64_t a,
  std::int64_t b,
  std::int64_t& other) const
{
  int count = 0;
  for (std::int64_t e = this->Starts[a]; e < this->Starts[a + 1]; ++e)
  {
    const std::int64_t candidate = this->Entries[e];
    const Triangle& t = this->Triangles[candidate];
    if (candidate != triangle && (t[0] == b || t[1] == b || t[2] == b))
    {
      if (count++ == 0)
      {
        other = candidate;
      }
    }
  }
  return count;
}

void orientConsistently(std::int64_t vertexCount, std::vector<Triangle>& triangles)
{
  const VertexTriangles adjacency(vertexCount, triangles);
  std::vector<char> visited(triangles.size(), 0);
  std::deque<std::int64_t> queue;
  for (std::size_t seed = 0; seed < triangles.size(); ++seed)
  {
    if (visited[seed])
    {
      continue;
    }
    visited[seed] = 1;
    queue.push_back(static_cast<std::int64_t>(seed));
    while (!queue.empty())
    {
      const std::int64_t t = queue.front();
      queue.pop_front();
      for (int e = 0; e < 3; ++e)
      {
        const std::int64_t a = triangles[t][e];
        const std::int64_t b = triangles[t][(e + 1) % 3];
        std::int64_t other = -1;
        if (adjacency.trianglesAcross(t, a, b, other) != 1 || visited[other])
        {
          continue; // open or non-manifold edge, or already oriented
        }
        Triangle& neighbour = triangles[other];
        for (int f = 0; f < 3; ++f)
        {
          if (neighbour[f] == a && neighbour[(f + 1) % 3] == b)
          {
            std::swap(neighbour[1], neighbour[2]); // same direction: flip it
            break;
          }
        }
        visited[other] = 1;
        queue.push_back(other);
      }
    }
  }
}

std::vector<char> openEdgeVertices(std::int64_t vertexCount, const std::vector<Triangle>& triangles)
{
  const VertexTriangles adjacency(vertexCount, triangles);
  std::vector<char> open(static_cast<std::size_t>(vertexCount), 0);
  for (std::size_t t = 0; t < triangles.size(); ++t)
  {
    for (int e = 0; e < 3; ++e)
    {
      const std::int64_t a = triangles[t][e];
      const std::int64_t b = triangles[t][(e + 1) % 3];
      std::int64_t other = -1;
      if (adjacency.trianglesAcross(static_cast<std::int64_t>(t), a, b, other) == 0)
      {
        open[a] = open[b] = 1;
      }
    }
  }
  return open;
}

void accumulateVertexNormals(const std::vector<Vec3>& points,
  const std::vector<std::array<std::int64_t, 3>>& triangles,
  std::vector<Vec3>& normalSums)
{
  normalSums.assign(points.size(), Vec3{});
  for (const auto& triangle : triangles)
  {
    const Vec3 p[3] = { points[triangle[0]], points[triangle[1]], points[triangle[2]] };
    const Vec3 faceNormal = normalized(cross(p[1] - p[0], p[2] - p[0]));
    if (length(faceNormal) == 0.0)
    {
      continue; // degenerate triangle
    }
    for (int corner = 0; corner < 3; ++corner)
    {
      // Weighting by the corner angle makes the normal independent of how a face is split:
      // a CAD fan and a uniform mesh of the same face give the same vertex normal.
      const Vec3 a = normalized(p[(corner + 1) % 3] - p[corner]);
      const Vec3 b = normalized(p[(corner + 2) % 3] - p[corner]);
      const double angle = std::acos(std::clamp(dot(a, b), -1.0, 1.0));
      normalSums[triangle[corner]] = normalSums[triangle[corner]] + angle * faceNormal;
    }
  }
}

double signedVolume(const std::vector<Vec3>& points,
  const std::vector<std::array<std::int64_t, 3>>& triangles,
  Vec3 reference)
{
  double volume = 0.0;
  for (const auto& triangle : triangles)
  {
    const Vec3 a = points[triangle[0]] - reference;
    const Vec3 b = points[triangle[1]] - reference;
    const Vec3 c = points[triangle[2]] - reference;
    volume += dot(a, cross(b, c)) / 6.0;
  }
  return volume;
}

/// Points with identical coordinates are one point for normals: STL files repeat vertices, and
/// surface pieces under MPI repeat the points on their cuts. Only points on open edges can be
/// such duplicates, so only they are hashed.
namespace
{
std::vector<std::int64_t> mergeDuplicatesOnOpenEdges(const std::vector<Vec3>& points,
  const std::vector<Triangle>& triangles)
{
  const auto count = static_cast<std::int64_t>(points.size());
  std::vector<std::int64_t> mergedId(points.size());
  for (std::int64_t i = 0; i < count; ++i)
  {
    mergedId[i] = i;
  }
  const std::vector<char> open = openEdgeVertices(count, triangles);
  std::unordered_map<std::array<double, 3>, std::int64_t, CoordinateHash> first;
  for (std::int64_t i = 0; i < count; ++i)
  {
    if (open[i])
    {
      const auto inserted =
        first.emplace(std::array<double, 3>{ points[i].x, points[i].y, points[i].z }, i);
      mergedId[i] = inserted.first->second;
    }
  }
  return mergedId;
}

} // namespace

bool pointInwardOnBalance(const std::vector<Vec3>& points,
  const std::vector<Vec3>& normals,
  const Collective& comm)
{
  double centroid[4] = { 0, 0, 0, static_cast<double>(points.size()) };
  for (const Vec3& p : points)
  {
    centroid[0] += p.x;
    centroid[1] += p.y;
    centroid[2] += p.z;
  }
  comm.sum(centroid, 4);
  const Vec3 center{ centroid[0] / centroid[3], centroid[1] / centroid[3], centroid[2] / centroid[3] };
  double outwardness = 0.0;
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    outwardness += dot(normals[i], normalized(points[i] - center));
  }
  comm.sum(&outwardness, 1);
  return outwardness < 0.0;
}

std::vector<Vec3> computeOutwardNormals(const std::vector<Vec3>& points,
  const std::vector<Triangle>& inputTriangles,
  const Collective& comm)
{
  const auto count = static_cast<std::int64_t>(points.size());
  const std::vector<std::int64_t> mergedId = mergeDuplicatesOnOpenEdges(points, inputTriangles);
  std::vector<Triangle> triangles;
  triangles.reserve(inputTriangles.size());
  for (const Triangle& t : inputTriangles)
  {
    const Triangle m{ mergedId[t[0]], mergedId[t[1]], mergedId[t[2]] };
    if (m[0] != m[1] && m[1] != m[2] && m[2] != m[0])
    {
      triangles.push_back(m);
    }
  }
  orientConsistently(count, triangles);

  // Orientation from the signed volume about the (global) area-weighted centroid.
  double centroidSums[4] = { 0, 0, 0, 0 };
  for (const Triangle& t : triangles)
  {
    const Vec3 a = points[t[0]];
    const Vec3 b = points[t[1]];
    const Vec3 c = points[t[2]];
    const double area = 0.5 * length(cross(b - a, c - a));
    const Vec3 center = (1.0 / 3.0) * (a + b + c);
    centroidSums[0] += area * center.x;
    centroidSums[1] += area * center.y;
    centroidSums[2] += area * center.z;
    centroidSums[3] += area;
  }
  comm.sum(centroidSums, 4);
  Vec3 centroid;
  if (centroidSums[3] > 0.0)
  {
    centroid = { centroidSums[0] / centroidSums[3],
      centroidSums[1] / centroidSums[3],
      centroidSums[2] / centroidSums[3] };
  }
  double volume = signedVolume(points, triangles, centroid);
  comm.sum(&volume, 1);
  if (volume < 0.0)
  {
    for (Triangle& t : triangles)
    {
      std::swap(t[1], t[2]);
    }
  }

  std::vector<Vec3> sums;
  accumulateVertexNormals(points, triangles, sums);
  if (comm.distributed())
  {
    std::vector<double> flat(3 * sums.size());
    for (std::size_t i = 0; i < sums.size(); ++i)
    {
      flat[3 * i] = sums[i].x;
      flat[3 * i + 1] = sums[i].y;
      flat[3 * i + 2] = sums[i].z;
    }
    addSumsAcrossCut(points, triangles, 3, flat, comm);
    for (std::size_t i = 0; i < sums.size(); ++i)
    {
      sums[i] = { flat[3 * i], flat[3 * i + 1], flat[3 * i + 2] };
    }
  }

  std::vector<Vec3> normals(points.size());
  for (std::int64_t i = 0; i < count; ++i)
  {
    normals[i] = normalized(sums[mergedId[i]]);
  }
  return normals;
}

void addSumsAcrossCut(const std::vector<Vec3>& points,
  const std::vector<Triangle>& triangles,
  int width,
  std::vector<double>& sums,
  const Collective& comm)
{
  if (!comm.distributed())
  {
    return;
  }
  // Points on the cut between surface pieces: add the other pieces' sums, found by their exact
  // coordinates. Only points on this piece's open edges can be shared.
  const auto count = static_cast<std::int64_t>(points.size());
  const std::vector<char> onCut = openEdgeVertices(count, triangles);
  const std::size_t record = 3 + static_cast<std::size_t>(width);
  std::vector<double> mine;
  std::unordered_map<std::array<double, 3>, std::int64_t, CoordinateHash> cutIndex;
  for (std::int64_t i = 0; i < count; ++i)
  {
    if (onCut[i])
    {
      mine.insert(mine.end(), { points[i].x, points[i].y, points[i].z });
      mine.insert(mine.end(), sums.begin() + i * width, sums.begin() + (i + 1) * width);
      cutIndex.emplace(std::array<double, 3>{ points[i].x, points[i].y, points[i].z }, i);
    }
  }
  std::vector<vtkIdType> lengths;
  const std::vector<double> all = comm.gather(mine, lengths);
  std::size_t offset = 0;
  for (int r = 0; r < comm.size(); ++r)
  {
    if (r != comm.rank())
    {
      for (std::size_t i = offset; i < offset + static_cast<std::size_t>(lengths[r]); i += record)
      {
        const auto found = cutIndex.find({ all[i], all[i + 1], all[i + 2] });
        if (found != cutIndex.end())
        {
          for (int k = 0; k < width; ++k)
          {
            sums[found->second * width + k] += all[i + 3 + k];
          }
        }
      }
    }
    offset += static_cast<std::size_t>(lengths[r]);
  }
}

namespace
{
/// A unit tangent basis at a normal, the same on every rank for the same normal.
void tangentBasis(Vec3 n, Vec3& e1, Vec3& e2)
{
  const Vec3 away = std::abs(n.x) <= std::abs(n.y) && std::abs(n.x) <= std::abs(n.z)
    ? Vec3{ 1.0, 0.0, 0.0 }
    : (std::abs(n.y) <= std::abs(n.z) ? Vec3{ 0.0, 1.0, 0.0 } : Vec3{ 0.0, 0.0, 1.0 });
  e1 = normalized(cross(n, away));
  e2 = cross(n, e1);
}

// Per vertex: the least-squares normal equations of the height of its neighbours over its
// tangent plane, h = p X + q Y - (a X^2 + 2 b X Y + c Y^2) / 2 in its tangent basis: 15 entries
// of the symmetric 5 x 5 matrix and 5 sums. The linear terms take up the vertex normal's own
// error (an angle-weighted normal of an irregular fan tilts a little), which the normal
// curvatures 2 h / |v|^2 alone would read as curvature, by up to 1/mm on a marching-cubes mesh.
constexpr int HeightTerms = 5;
constexpr double CurvatureRidge = 0.01;
constexpr int CurvatureSums = HeightTerms * (HeightTerms + 1) / 2 + HeightTerms;
}

std::vector<contact::SurfaceCurvature> surfaceCurvatures(const std::vector<Vec3>& points,
  const std::vector<Triangle>& triangles,
  const std::vector<Vec3>& normals,
  Vec3 sliceAxis,
  const Collective& comm)
{
  const std::size_t count = points.size();
  std::vector<double> sums(count * CurvatureSums, 0.0);
  std::vector<Vec3> e1(count);
  std::vector<Vec3> e2(count);
  for (std::size_t i = 0; i < count; ++i)
  {
    tangentBasis(normals[i], e1[i], e2[i]);
  }
  // Each edge of a triangle counts half at each of its ends: an inner edge belongs to two
  // triangles, so the sums do not depend on how the surface is cut into pieces.
  auto addEdge = [&](std::int64_t from, std::int64_t to)
  {
    const Vec3 v = points[to] - points[from];
    const double height = dot(normals[from], v);
    const double x = dot(v, e1[from]);
    const double y = dot(v, e2[from]);
    const double row[HeightTerms] = { x, y, -0.5 * x * x, -x * y, -0.5 * y * y };
    // Near neighbours count most: a CAD export's sliver reaches 10 mm along the stem, where the
    // surface is no longer the vertex's quadric.
    const double length2 = dot(v, v);
    if (!(length2 > 0.0))
    {
      return;
    }
    const double weight = 0.5 / length2;
    double* sum = sums.data() + from * CurvatureSums;
    int entry = 0;
    for (int r = 0; r < HeightTerms; ++r)
    {
      for (int c = r; c < HeightTerms; ++c)
      {
        sum[entry++] += weight * row[r] * row[c];
      }
    }
    for (int r = 0; r < HeightTerms; ++r)
    {
      sum[entry++] += weight * row[r] * height;
    }
  };
  for (const Triangle& t : triangles)
  {
    for (int corner = 0; corner < 3; ++corner)
    {
      addEdge(t[corner], t[(corner + 1) % 3]);
      addEdge(t[corner], t[(corner + 2) % 3]);
    }
  }
  addSumsAcrossCut(points, triangles, CurvatureSums, sums, comm);

  const Vec3 axis = normalized(sliceAxis);
  std::vector<contact::SurfaceCurvature> curvatures(count);
  std::vector<double> matrix(HeightTerms * HeightTerms);
  std::vector<double> solution(HeightTerms);
  for (std::size_t i = 0; i < count; ++i)
  {
    const double* sum = sums.data() + i * CurvatureSums;
    int entry = 0;
    for (int r = 0; r < HeightTerms; ++r)
    {
      for (int c = r; c < HeightTerms; ++c)
      {
        matrix[r * HeightTerms + c] = matrix[c * HeightTerms + r] = sum[entry++];
      }
    }
    solution.assign(sum + entry, sum + entry + HeightTerms);
    // A small ridge pulls what the fan cannot tell apart (all its edges along one direction, as
    // on a CAD export's long slivers) to a flat surface instead of to round-off, which would
    // differ between a surface held whole and one split over ranks.
    const double linearScale = 0.5 * (matrix[0] + matrix[HeightTerms + 1]);
    const double quadraticScale =
      (matrix[2 * HeightTerms + 2] + matrix[3 * HeightTerms + 3] + matrix[4 * HeightTerms + 4]) /
      3.0;
    for (int r = 0; r < HeightTerms; ++r)
    {
      matrix[r * HeightTerms + r] += CurvatureRidge * (r < 2 ? linearScale : quadraticScale);
    }
    // Too few edge directions to tell the form apart (an open fan, an unmerged STL): none.
    if (!(sum[0] > 0.0) || !solveLinearSystem(matrix, solution))
    {
      continue;
    }
    const double a = solution[2];
    const double b = solution[3];
    const double c = solution[4];
    const Vec3 slice = axis - dot(axis, normals[i]) * normals[i];
    const double sx = dot(slice, e1[i]);
    const double sy = dot(slice, e2[i]);
    // Principal curvatures and directions of the form [[a, b], [b, c]] in the (e1, e2) frame.
    const double mean = 0.5 * (a + c);
    const double radius = std::hypot(0.5 * (a - c), b);
    const double angle = 0.5 * std::atan2(2.0 * b, a - c);
    const double along1 = sx * std::cos(angle) + sy * std::sin(angle);
    const double along2 = -sx * std::sin(angle) + sy * std::cos(angle);
    contact::SurfaceCurvature& curvature = curvatures[i];
    curvature.principal[0] = mean + radius;
    curvature.principal[1] = mean - radius;
    curvature.sliceShare[0] = along1 * along1;
    curvature.sliceShare[1] = along2 * along2;
  }
  return curvatures;
}

} // namespace probe
} // namespace ibc
