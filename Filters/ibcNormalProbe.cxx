// SPDX-License-Identifier: BSD-3-Clause
#include "ibcNormalProbe.h"

#include <vtkSMPTools.h>
#include <vtkSetGet.h> // vtkTemplateMacro
#include <vtkType.h>

#include <algorithm>
#include <cmath>
#include <limits>

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

template<typename T>
bool interpolateTyped(const T* data,
  const VolumeBlock& block,
  Vec3 index,
  Interpolation interpolation,
  double& value)
{
  if (interpolation == Interpolation::Linear)
  {
    // Fast path: the whole cell inside the block, away from its upper faces.
    const double fx = std::floor(index.x);
    const double fy = std::floor(index.y);
    const double fz = std::floor(index.z);
    if (fx >= block.extent[0] && fx < block.extent[1] && fy >= block.extent[2] &&
      fy < block.extent[3] && fz >= block.extent[4] && fz < block.extent[5])
    {
      const std::int64_t nx = block.extent[1] - block.extent[0] + 1;
      const std::int64_t sliceSize = nx * (block.extent[3] - block.extent[2] + 1);
      const std::int64_t c = block.components;
      const T* p = data +
        ((static_cast<std::int64_t>(fz) - block.extent[4]) * sliceSize +
          (static_cast<std::int64_t>(fy) - block.extent[2]) * nx +
          (static_cast<std::int64_t>(fx) - block.extent[0])) *
          c;
      const std::int64_t sx = c;
      const std::int64_t sy = nx * c;
      const std::int64_t sz = sliceSize * c;
      const double tx = index.x - fx;
      const double ty = index.y - fy;
      const double tz = index.z - fz;
      const double v00 = p[0] + tx * (static_cast<double>(p[sx]) - p[0]);
      const double v10 = p[sy] + tx * (static_cast<double>(p[sy + sx]) - p[sy]);
      const double v01 = p[sz] + tx * (static_cast<double>(p[sz + sx]) - p[sz]);
      const double v11 = p[sz + sy] + tx * (static_cast<double>(p[sz + sy + sx]) - p[sz + sy]);
      const double v0 = v00 + ty * (v10 - v00);
      const double v1 = v01 + ty * (v11 - v01);
      value = v0 + tz * (v1 - v0);
      return true;
    }
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
  vtkSMPTools::For(0,
    vertexCount,
    [&](std::int64_t begin, std::int64_t end)
    {
      for (std::int64_t vertex = begin; vertex < end; ++vertex)
      {
        const Vec3 base = baseIndices[vertex];
        const Vec3 step = indexSteps[vertex];
        for (std::int64_t s = 0; s < samples; ++s)
        {
          const double t = distances[s];
          const Vec3 index{ base.x + t * step.x, base.y + t * step.y, base.z + t * step.z };
          const std::int64_t slot = vertex * samples + s;
          double value = std::numeric_limits<double>::quiet_NaN();
          if (interpolateTyped(data, block, index, interpolation, value))
          {
            status[slot] = Sampled;
          }
          else
          {
            status[slot] = block.insideWholeExtent(index) ? InOtherBlock : OutsideVolume;
            value = std::numeric_limits<double>::quiet_NaN();
          }
          values[slot] = value;
        }
      }
    });
}

double medianOf(std::vector<double>& values)
{
  const std::size_t middle = values.size() / 2;
  std::nth_element(
    values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle), values.end());
  const double upper = values[middle];
  if (values.size() % 2 == 1)
  {
    return upper;
  }
  const double lower =
    *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle));
  return 0.5 * (lower + upper);
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

std::vector<double> SamplingPlan::distances() const
{
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
    result.value = medianOf(band);
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
      result.value = medianOf(copy);
      result.distance = 0.5 * (distances.front() + distances.back());
      break;
    }
  }
  return result;
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

} // namespace probe
} // namespace ibc
