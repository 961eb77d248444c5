// SPDX-License-Identifier: BSD-3-Clause
#include "ibcContactModel.h"

#include "ibcLinearAlgebra.h"

#include <vtkSMPTools.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>

namespace ibc
{
namespace contact
{

namespace
{
constexpr double SqrtTwo = 1.4142135623730951;
constexpr double InverseSqrtTwoPi = 0.3989422804014327;
// The through-plane spread is fitted from profiles whose normal leans this much along the
// slice axis; the in-plane spread from those that lean less.
constexpr double ThroughPlaneComponent = 0.5;
// Grid search: points per parameter and level, and levels (each narrows the step fourfold).
constexpr int GridPoints = 9;
constexpr int GridLevels = 4;
// The fitted parameters are trusted to this relative precision at best: the model (Gaussian
// spread, locally constant tissue) is an approximation, whatever the statistics say.
constexpr double ModelPrecisionFloor = 0.03;
// A metal model needs a metal: its value must exceed any tissue's.
constexpr double MinimumMetalHU = 2000.0;
// Lowest and highest tissue levels a profile's constant tissue may take in the fit.
constexpr double LowestTissueHU = -1024.0;
constexpr double HighestTissueHU = 3000.0;
// Bone must stay above the threshold over this length (mm) to count: noise does not.
constexpr double BonePersistence = 0.3;
// Half-width (mm) of the running median that quiets noise in the corrected profile.
constexpr double SmoothingHalfWidth = 0.25;
// A first trusted sample that is barely bone (below this many bone thresholds and half the bone's
// level), from which the profile rises by RisingEdgeShare of the way to a bright bone (twice
// that many thresholds) within two tissue spreads, is a soft layer lifted by a bone edge just
// beyond it.
constexpr double PartialBoneFactor = 1.5;
constexpr double RisingEdgeShare = 0.25;
// How far beyond the first bone sample the bone's level is looked for (mm).
constexpr double BonePeakSearch = 2.0;
// Linear interpolation bends a curve by at most h^2 / 8 times its curvature, midway between
// voxels; the fit absorbs part of it and samples lie anywhere between voxels: a quarter of the
// bound is the uncertainty counted.
constexpr double InterpolationErrorShare = 0.125 * 0.25;
// Confidence falls by e for every this many mm the reading had to move out of the contact band.
constexpr double ConfidenceDecayLength = 0.5;

double shareAt(double distance, double sigma)
{
  return 0.5 * std::erfc(distance / (sigma * SqrtTwo));
}

double robustLoss(double residual, double scale)
{
  const double q = (residual / scale) * (residual / scale);
  return q / (1.0 + q);
}

/// The samples of one profile the fit may use: inside the fit window, known, below the clip.
struct UsableProfile
{
  std::vector<int> indices; ///< into FitProfiles::distances
  std::vector<double> values;
  double sliceComponent = 0.0;
};

std::vector<UsableProfile> usableProfiles(const FitProfiles& profiles,
  const FitOptions& options,
  double clip)
{
  const std::size_t samples = profiles.distances.size();
  std::vector<UsableProfile> result;
  result.reserve(profiles.count());
  for (std::size_t p = 0; p < profiles.count(); ++p)
  {
    UsableProfile usable;
    usable.sliceComponent = profiles.sliceComponents[p];
    for (std::size_t s = 0; s < samples; ++s)
    {
      const double d = profiles.distances[s];
      const double value = profiles.values[p * samples + s];
      if (d < options.fitStart || d > options.fitEnd || !std::isfinite(value) ||
        value >= clip - options.clipMargin)
      {
        continue;
      }
      usable.indices.push_back(static_cast<int>(s));
      usable.values.push_back(value);
    }
    if (usable.indices.size() >= 4)
    {
      result.push_back(std::move(usable));
    }
  }
  return result;
}

/// Robust loss of one profile for given metal shares (one per distance) and metal value; the
/// profile's tissue level is its least-squares best.
double profileLoss(const UsableProfile& profile,
  const double* shares,
  double metal,
  double scale,
  std::vector<double>* residuals = nullptr)
{
  double numerator = 0.0;
  double denominator = 0.0;
  for (std::size_t i = 0; i < profile.indices.size(); ++i)
  {
    const double w = shares[profile.indices[i]];
    numerator += (1.0 - w) * (profile.values[i] - w * metal);
    denominator += (1.0 - w) * (1.0 - w);
  }
  const double tissue =
    std::clamp(denominator > 1e-9 ? numerator / denominator : 0.0, LowestTissueHU, HighestTissueHU);
  double loss = 0.0;
  for (std::size_t i = 0; i < profile.indices.size(); ++i)
  {
    const double w = shares[profile.indices[i]];
    const double residual = profile.values[i] - w * metal - (1.0 - w) * tissue;
    loss += robustLoss(residual, scale);
    if (residuals && w > 0.05 && w < 0.5)
    {
      residuals->push_back(std::abs(residual));
    }
  }
  return loss;
}

/// Minimises loss(x, y) over a box in (x, y) by nested grids; returns the best point and the
/// final steps.
std::array<double, 4> gridSearch2D(double xLow,
  double xHigh,
  double yLow,
  double yHigh,
  const std::function<double(double, double)>& loss)
{
  double xStep = (xHigh - xLow) / (GridPoints - 1);
  double yStep = (yHigh - yLow) / (GridPoints - 1);
  double bestX = 0.5 * (xLow + xHigh);
  double bestY = 0.5 * (yLow + yHigh);
  double xStart = xLow;
  double yStart = yLow;
  for (int level = 0; level < GridLevels; ++level)
  {
    std::vector<double> losses(GridPoints * GridPoints);
    vtkSMPTools::For(0,
      GridPoints * GridPoints,
      [&](int begin, int end)
      {
        for (int c = begin; c < end; ++c)
        {
          losses[c] = loss(xStart + (c % GridPoints) * xStep, yStart + (c / GridPoints) * yStep);
        }
      });
    const int best =
      static_cast<int>(std::min_element(losses.begin(), losses.end()) - losses.begin());
    bestX = xStart + (best % GridPoints) * xStep;
    bestY = yStart + (best / GridPoints) * yStep;
    // The next level spans one step of this one on each side of the best point.
    xStep *= 2.0 / (GridPoints - 1);
    yStep *= 2.0 / (GridPoints - 1);
    xStart = bestX - 0.5 * (GridPoints - 1) * xStep;
    yStart = bestY - 0.5 * (GridPoints - 1) * yStep;
  }
  return { bestX, bestY, xStep, yStep };
}

/// Relative precision of a parameter from the loss's curvature at the best value (log scale):
/// var = 2 sigma_r^2 / (scale^2 L''), the least-squares result for a loss of sum (r / scale)^2.
double relativePrecision(double lossLow, double lossBest, double lossHigh, double step,
  double residualHU, double scale)
{
  const double curvature = (lossLow - 2.0 * lossBest + lossHigh) / (step * step);
  if (!(curvature > 0.0))
  {
    return 1.0;
  }
  const double variance = 2.0 * residualHU * residualHU / (scale * scale * curvature);
  return std::max(ModelPrecisionFloor, std::sqrt(variance));
}

/// Running median over +-halfWidth samples of values[first, count), NaN kept out.
std::vector<double> runningMedian(const double* values, std::size_t first, std::size_t count,
  int halfWidth)
{
  std::vector<double> result(count, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> window;
  for (std::size_t i = first; i < count; ++i)
  {
    window.clear();
    const std::size_t low = i >= first + halfWidth ? i - halfWidth : first;
    const std::size_t high = std::min(count - 1, i + halfWidth);
    for (std::size_t j = low; j <= high; ++j)
    {
      if (std::isfinite(values[j]))
      {
        window.push_back(values[j]);
      }
    }
    result[i] = medianInPlace(window);
  }
  return result;
}

/// Median of the finite values at distances in [from, to].
double bandMedian(const std::vector<double>& distances, const double* values, double from,
  double to)
{
  std::vector<double> band;
  for (std::size_t i = 0; i < distances.size(); ++i)
  {
    if (distances[i] >= from - 1e-9 && distances[i] <= to + 1e-9 && std::isfinite(values[i]))
    {
      band.push_back(values[i]);
    }
  }
  return medianInPlace(band);
}
} // namespace

double MetalModel::edgeSigma(double sliceComponent) const
{
  const double c2 = std::min(1.0, sliceComponent * sliceComponent);
  return std::sqrt(this->sigmaInPlane * this->sigmaInPlane * (1.0 - c2) +
    this->sigmaThroughPlane * this->sigmaThroughPlane * c2);
}

double MetalModel::metalShare(double distance, double sliceComponent) const
{
  return shareAt(distance, this->edgeSigma(sliceComponent));
}

double detectClip(const FitProfiles& profiles)
{
  const std::size_t samples = profiles.distances.size();
  double maximum = -std::numeric_limits<double>::infinity();
  for (const double value : profiles.values)
  {
    if (std::isfinite(value))
    {
      maximum = std::max(maximum, value);
    }
  }
  std::int64_t inside = 0;
  std::int64_t atMaximum = 0;
  for (std::size_t p = 0; p < profiles.count(); ++p)
  {
    for (std::size_t s = 0; s < samples; ++s)
    {
      const double value = profiles.values[p * samples + s];
      if (profiles.distances[s] < 0.0 && std::isfinite(value))
      {
        ++inside;
        atMaximum += value >= maximum - 0.5 ? 1 : 0;
      }
    }
  }
  return inside > 0 && atMaximum * 50 >= inside ? maximum
                                                : std::numeric_limits<double>::infinity();
}

MetalModel fitMetalModel(const FitProfiles& profiles, const FitOptions& options)
{
  MetalModel model;
  model.clipHU = detectClip(profiles);
  const std::vector<UsableProfile> usable = usableProfiles(profiles, options, model.clipHU);
  std::vector<const UsableProfile*> inPlane;
  std::vector<const UsableProfile*> throughPlane;
  for (const UsableProfile& profile : usable)
  {
    (profile.sliceComponent < ThroughPlaneComponent ? inPlane : throughPlane).push_back(&profile);
  }
  if (inPlane.size() < static_cast<std::size_t>(options.minimumThroughPlaneProfiles))
  {
    // Too few in-plane normals to fit apart (a stem lying along the slices): one spread.
    inPlane.insert(inPlane.end(), throughPlane.begin(), throughPlane.end());
    throughPlane.clear();
  }
  if (inPlane.empty())
  {
    return model;
  }
  const std::vector<double>& distances = profiles.distances;
  const double scale = options.robustScale;

  // --- Stage 1: metal value and in-plane spread, on a log grid.
  auto inPlaneLoss = [&](double logMetal, double logSigma, std::vector<double>* residuals)
  {
    const double metal = std::exp(logMetal);
    const double sigma = std::exp(logSigma);
    std::vector<double> shares(distances.size());
    for (std::size_t s = 0; s < distances.size(); ++s)
    {
      shares[s] = shareAt(distances[s], sigma);
    }
    double loss = 0.0;
    for (const UsableProfile* profile : inPlane)
    {
      loss += profileLoss(*profile, shares.data(), metal, scale, residuals);
    }
    return loss;
  };
  const double lowMetal = std::isfinite(model.clipHU) ? std::max(MinimumMetalHU, model.clipHU)
                                                      : MinimumMetalHU;
  const std::array<double, 4> best = gridSearch2D(std::log(lowMetal),
    std::log(options.maximumMetalHU),
    std::log(options.minimumSigma),
    std::log(options.maximumSigma),
    [&](double x, double y) { return inPlaneLoss(x, y, nullptr); });
  model.metalHU = std::exp(best[0]);
  model.sigmaInPlane = std::exp(best[1]);
  std::vector<double> residuals;
  const double bestLoss = inPlaneLoss(best[0], best[1], &residuals);
  model.residualHU = 1.4826 * medianInPlace(residuals);
  if (!std::isfinite(model.residualHU))
  {
    model.residualHU = scale;
  }
  // Precision from the curvature over a few final steps (a single step is too fine to see it).
  const double metalStep = 4.0 * best[2];
  const double sigmaStep = 4.0 * best[3];
  model.relativeMetalError = relativePrecision(inPlaneLoss(best[0] - metalStep, best[1], nullptr),
    bestLoss,
    inPlaneLoss(best[0] + metalStep, best[1], nullptr),
    metalStep,
    model.residualHU,
    scale);
  model.relativeSigmaError = relativePrecision(inPlaneLoss(best[0], best[1] - sigmaStep, nullptr),
    bestLoss,
    inPlaneLoss(best[0], best[1] + sigmaStep, nullptr),
    sigmaStep,
    model.residualHU,
    scale);
  model.profilesUsed = static_cast<std::int64_t>(inPlane.size() + throughPlane.size());

  // --- Stage 2: the through-plane spread, with the metal value fixed.
  const double boxDifference =
    (options.sliceSpacing * options.sliceSpacing - options.inPlaneSpacing * options.inPlaneSpacing) /
    12.0;
  model.sigmaThroughPlane =
    std::sqrt(std::max(0.01, model.sigmaInPlane * model.sigmaInPlane + boxDifference));
  if (throughPlane.size() >= static_cast<std::size_t>(options.minimumThroughPlaneProfiles))
  {
    auto throughPlaneLoss = [&](double logSigma)
    {
      MetalModel trial = model;
      trial.sigmaThroughPlane = std::exp(logSigma);
      std::vector<double> shares(distances.size());
      double loss = 0.0;
      for (const UsableProfile* profile : throughPlane)
      {
        const double sigma = trial.edgeSigma(profile->sliceComponent);
        for (const int s : profile->indices)
        {
          shares[s] = shareAt(distances[s], sigma);
        }
        loss += profileLoss(*profile, shares.data(), model.metalHU, scale);
      }
      return loss;
    };
    const std::array<double, 4> zBest = gridSearch2D(std::log(options.minimumSigma),
      std::log(options.maximumSigma),
      0.0,
      0.0,
      [&](double x, double) { return throughPlaneLoss(x); });
    model.sigmaThroughPlane = std::exp(zBest[0]);
    model.throughPlaneFitted = true;
  }

  // --- Is there a metal at all? Inside the surface the CT must read far above any tissue.
  std::vector<double> inside;
  for (std::size_t p = 0; p < profiles.count(); ++p)
  {
    for (std::size_t s = 0; s < distances.size(); ++s)
    {
      const double value = profiles.values[p * distances.size() + s];
      if (distances[s] < -0.99 && distances[s] > -1.01 && std::isfinite(value))
      {
        inside.push_back(value);
      }
    }
  }
  const double insideMedian = medianInPlace(inside);
  model.valid = model.metalHU > MinimumMetalHU && insideMedian > 0.5 * MinimumMetalHU;
  return model;
}

ContactReading readContact(const MetalModel& model,
  double sliceComponent,
  const std::vector<double>& distances,
  const double* values,
  const ContactRule& rule,
  double* corrected)
{
  ContactReading reading;
  const std::size_t count = distances.size();
  std::vector<double> tissue(count, std::numeric_limits<double>::quiet_NaN());
  std::vector<char> trusted(count, 0);
  const double sigma = model.valid ? model.edgeSigma(sliceComponent) : 1.0;
  std::size_t first = count;
  for (std::size_t i = 0; i < count; ++i)
  {
    const double d = distances[i];
    if (d < 0.0 || d > rule.maximumInterfaceSearch + 1e-9)
    {
      continue;
    }
    first = std::min(first, i);
    if (!std::isfinite(values[i]))
    {
      reading.status = ReadingStatus::OutsideVolume;
      return reading;
    }
    if (!model.valid)
    {
      tissue[i] = values[i];
      trusted[i] = 1;
      continue;
    }
    const double w = shareAt(d, sigma);
    if (w >= 0.5 || values[i] >= model.clipHU - 1.0)
    {
      continue;
    }
    const double u = d / sigma;
    const double slopeInLogSigma = InverseSqrtTwoPi * std::exp(-0.5 * u * u) * u;
    const double curvature = InverseSqrtTwoPi * std::exp(-0.5 * u * u) * u / (sigma * sigma);
    const double interpolationError = InterpolationErrorShare * rule.voxelSize * rule.voxelSize * curvature;
    const double uncertainty = model.metalHU *
      (slopeInLogSigma * model.relativeSigmaError + w * model.relativeMetalError +
        interpolationError) /
      (1.0 - w);
    tissue[i] = (values[i] - w * model.metalHU) / (1.0 - w);
    trusted[i] = uncertainty <= rule.maximumUncertaintyHU ? 1 : 0;
  }
  if (first == count)
  {
    reading.status = ReadingStatus::OutsideVolume;
    return reading;
  }
  const std::size_t last = [&]
  {
    std::size_t end = first;
    while (end < count && distances[end] <= rule.maximumInterfaceSearch + 1e-9)
    {
      ++end;
    }
    return end;
  }();
  // Trusted from the first sample after which every sample is trusted (the metal term's
  // uncertainty falls with the distance once past its peak).
  std::size_t start = last;
  while (start > first && trusted[start - 1])
  {
    --start;
  }
  if (corrected)
  {
    for (std::size_t i = 0; i < count; ++i)
    {
      corrected[i] = i >= start && i < last ? tissue[i] : std::numeric_limits<double>::quiet_NaN();
    }
  }
  if (start == last)
  {
    // The metal dominates the whole profile: report its end, with no confidence.
    reading.status = ReadingStatus::MetalEverywhere;
    reading.value = std::isfinite(tissue[last - 1]) ? tissue[last - 1] : values[last - 1];
    reading.distance = distances[last - 1];
    reading.confidence = 0.0;
    return reading;
  }
  reading.trustedFrom = distances[start];
  const double step = last - first > 1 ? (distances[last - 1] - distances[first]) / (last - first - 1) : 0.1;
  const int halfWidth = std::max(1, static_cast<int>(std::lround(SmoothingHalfWidth / step)));
  const std::vector<double> smooth = runningMedian(tissue.data(), start, last, halfWidth);

  // --- The first bone: above the threshold over BonePersistence.
  const int persistence = std::max(1, static_cast<int>(std::lround(BonePersistence / step)));
  std::size_t bone = last;
  for (std::size_t i = start; i < last && bone == last; ++i)
  {
    bool holds = true;
    for (std::size_t j = i; j < std::min(last, i + persistence) && holds; ++j)
    {
      holds = smooth[j] >= rule.boneThresholdHU;
    }
    if (holds)
    {
      bone = i;
    }
  }
  const double bandStart = rule.contactDistance - rule.bandHalfWidth;
  const double bandWidth = 2.0 * rule.bandHalfWidth;
  double peak = -std::numeric_limits<double>::infinity();
  for (std::size_t i = bone; i < last && distances[i] <= distances[std::min(bone, last - 1)] + BonePeakSearch; ++i)
  {
    peak = std::max(peak, smooth[i]);
  }
  // A bone edge just beyond the first trusted sample already lifts it over the threshold: the
  // edge is beyond it when that sample is barely bone and the bone beyond is much brighter.
  const auto edgeReach = static_cast<std::size_t>(std::lround(2.0 * rule.tissueSigma / step));
  const std::size_t ahead = std::min(last - 1, start + edgeReach);
  const bool edgeBeyondStart = bone == start &&
    tissue[start] < PartialBoneFactor * rule.boneThresholdHU && tissue[start] < 0.5 * peak &&
    peak > 2.0 * PartialBoneFactor * rule.boneThresholdHU &&
    smooth[ahead] - tissue[start] > RisingEdgeShare * (peak - tissue[start]);
  double layerLevel = std::numeric_limits<double>::quiet_NaN();
  if (bone == last)
  {
    reading.interfaceWidth = distances[last - 1];
    reading.interfaceIsLowerBound = true;
  }
  else if (bone == start && !edgeBeyondStart)
  {
    reading.interfaceWidth = 0.0;
  }
  else
  {
    // The layer in front of the bone, clear of the bone's blurred edge (else a soft-tissue
    // level), and the bone's level; the edge is half-way between them.
    const double boneAt = distances[bone];
    double front = edgeBeyondStart ? 0.0
                                   : bandMedian(distances, tissue.data(), distances[start],
                                       std::max(distances[start], boneAt - 2.0 * rule.tissueSigma));
    front = std::min(front, rule.boneThresholdHU);
    const double halfWay = 0.5 * (front + peak);
    reading.interfaceWidth = distances[start];
    for (std::size_t i = start + 1; i < last; ++i)
    {
      if (smooth[i] >= halfWay)
      {
        const double t = (halfWay - smooth[i - 1]) / (smooth[i] - smooth[i - 1]);
        reading.interfaceWidth =
          distances[i - 1] + std::clamp(t, 0.0, 1.0) * (distances[i] - distances[i - 1]);
        break;
      }
    }
    // The layer's own level: each sample in front of the edge with the bone's blurred share
    // taken out.
    std::vector<double> levels;
    for (std::size_t i = start; i < last && distances[i] < reading.interfaceWidth; ++i)
    {
      const double boneShare =
        1.0 - shareAt(distances[i] - reading.interfaceWidth, rule.tissueSigma);
      if (boneShare < 0.5 && std::isfinite(tissue[i]))
      {
        levels.push_back((tissue[i] - peak * boneShare) / (1.0 - boneShare));
      }
    }
    layerLevel = levels.empty() ? front : medianInPlace(levels);
  }

  // --- The tissue at the contact distance.
  double from = std::max(bandStart, distances[start]);
  if (reading.interfaceWidth > rule.contactDistance && std::isfinite(layerLevel))
  {
    // The non-bone layer reaches beyond the contact distance: its own level.
    reading.value = layerLevel;
    reading.distance = 0.5 * (distances[start] + reading.interfaceWidth);
  }
  else
  {
    if (reading.interfaceWidth > 0.0 && !reading.interfaceIsLowerBound)
    {
      // A thin layer in front: read the bone behind it, clear of its blurred edge.
      from = std::max(from, reading.interfaceWidth + 1.5 * rule.tissueSigma);
    }
    from = std::min(from, distances[last - 1] - bandWidth);
    reading.value = bandMedian(distances, tissue.data(), from, from + bandWidth);
    reading.distance = from + rule.bandHalfWidth;
  }
  const double moved = std::max(0.0, distances[start] - bandStart);
  reading.status = moved > 1e-9 ? ReadingStatus::ReadFartherOut : ReadingStatus::Read;
  reading.confidence = model.valid ? std::exp(-moved / ConfidenceDecayLength) : 0.25;
  return reading;
}

bool selectedForFit(const double point[3], double rate)
{
  if (rate >= 1.0)
  {
    return true;
  }
  std::uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (int axis = 0; axis < 3; ++axis)
  {
    std::uint64_t bits;
    std::memcpy(&bits, &point[axis], sizeof(bits));
    h ^= bits + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
  }
  return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0) < rate;
}

} // namespace contact
} // namespace ibc
