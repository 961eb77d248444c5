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
constexpr double InverseSqrtTwoPi = 0.3989422804014327;
// The through-plane spread is fitted from profiles whose normal leans this much along the
// slice axis; the in-plane spread from those that lean less.
constexpr double ThroughPlaneComponent = 0.5;
// Grid search: points per parameter and level, and levels (each narrows the step fourfold).
constexpr int GridPoints = 9;
constexpr int GridLevels = 4;
// The fitted parameters are trusted to this relative precision at best: the model (Gaussian
// spread, locally constant tissue) is an approximation, whatever the statistics say.
constexpr double ModelPrecisionFloor = 0.015;
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
// The bone's level for the half-way point is its brightest within this many tissue spreads of
// the first bone sample: farther out another, brighter bone (a cortex behind cancellous bone)
// would pull the half-way point to its own edge.
constexpr double BoneLevelReach = 2.0;
// A sample whose metal term is less precise than ContactRule::maximumUncertaintyHU still counts
// where it lies this many uncertainties from the bone threshold, up to this uncertainty (HU).
constexpr double DecisionMargin = 2.0;
constexpr double DecisiveUncertaintyCap = 400.0;
// Second fit pass: each profile's tissue level is read where the metal share is below this, and
// its window ends TissueEdgeMargin (mm) before the corrected tissue first departs from it by more
// than TissueEdgeStep (HU).
constexpr double ReferenceShare = 0.2;
constexpr double TissueEdgeStep = 300.0;
constexpr double TissueEdgeMargin = 0.5;
// Beyond this many edge spreads the metal's share is below 2.3e-4 (3 HU of a 12000 HU metal).
constexpr double NegligibleMetalReach = 3.5;
// The tissue residual is measured on profiles cut this far (HU) from their first tissue level.
constexpr double ResidualEdgeStep = 150.0;
// The front level of a layer is at most this share of the bone threshold.
constexpr double LayerCeilingShare = 0.5;
// A layer whose edge lies from this many tissue spreads before the contact distance to this many
// beyond it: the band is read as it is. A layer about as thin as the contact distance comes out
// too wide, by up to 0.3 mm (its own level is never reached between the metal's blur and the
// bone's, so the half-way point lies too far out), and its level would then be reported for
// the bone behind it; a layer well beyond the band is read best from its own level, clear of
// the bone's blur.
constexpr double EdgeNearBandInside = 1.0;
constexpr double EdgeNearBandOutside = 0.2;
// The residual is measured and taken out to this many edge spreads: a blooming with a heavy
// tail still lifts the tissue beyond the Gaussian's reach. A profile flat out to
// ResidualAnchor edge spreads takes its level from there, where even such a tail has faded;
// the others take their fitted level.
constexpr double ResidualReach = 7.0;
constexpr double ResidualAnchor = 5.0;
constexpr std::size_t MinimumAnchorSamples = 3;
// A bin of the tissue residual is measured from at least this many samples.
constexpr std::size_t MinimumResidualSamples = 30;
// The curvature's shift of the metal's edge is at most this many edge spreads (see
// SurfaceCurvature::shift).
constexpr double MaximumCurvatureShift = 0.5;
// Confidence falls by e for every this many mm the reading had to move out of the contact band.
constexpr double ConfidenceDecayLength = 0.5;

/// The upper tail of the standard normal distribution, Phi(-x), from a table (error < 1e-6):
/// the fit and the reading evaluate it millions of times.
constexpr double NormalTailRange = 8.0;
constexpr int NormalTailPerUnit = 256;
// Made when the library loads, so that the lookup needs no guard for a first call.
const std::vector<double> NormalTailTable = []
{
  std::vector<double> values(2 * static_cast<int>(NormalTailRange) * NormalTailPerUnit + 2);
  for (std::size_t i = 0; i < values.size(); ++i)
  {
    const double at = -NormalTailRange + static_cast<double>(i) / NormalTailPerUnit;
    values[i] = 0.5 * std::erfc(at / std::sqrt(2.0));
  }
  return values;
}();

inline double normalTail(double x)
{
  constexpr double Range = NormalTailRange;
  constexpr int PerUnit = NormalTailPerUnit;
  const std::vector<double>& table = NormalTailTable;
  if (!(x > -Range))
  {
    return x != x ? x : 1.0; // NaN stays NaN
  }
  if (x >= Range)
  {
    return 0.0;
  }
  const double position = (x + Range) * PerUnit;
  const auto index = static_cast<std::size_t>(position);
  const double t = position - static_cast<double>(index);
  return table[index] + t * (table[index + 1] - table[index]);
}

double shareAt(double distance, double sigma)
{
  return normalTail(distance / sigma);
}

double robustLoss(double residual, double scale)
{
  const double q = (residual / scale) * (residual / scale);
  return q / (1.0 + q);
}

/// The samples of one profile the fit may use: inside the fit window, known, below the clip.
struct UsableProfile
{
  std::vector<double> distances;
  std::vector<double> values;
  double sliceComponent = 0.0;
  ProfileSampling sampling;
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
    if (p < profiles.samplings.size())
    {
      usable.sampling = profiles.samplings[p];
    }
    for (std::size_t s = 0; s < samples; ++s)
    {
      const double d = profiles.distances[s];
      const double value = profiles.values[p * samples + s];
      if (s % static_cast<std::size_t>(std::max(1, options.sampleStride)) != 0 ||
        d < options.fitStart || d > options.fitEnd || !std::isfinite(value) ||
        value >= clip - options.clipMargin)
      {
        continue;
      }
      usable.distances.push_back(d);
      usable.values.push_back(value);
    }
    if (usable.distances.size() >= 4)
    {
      result.push_back(std::move(usable));
    }
  }
  return result;
}

/// A profile's edge spread along its normal and the shift its curvature gives the edge (mm).
struct EdgeSpread
{
  double sigma = 1.0;
  EdgeShift shift;
};

/// A profile's edge for given in-plane and through-plane spreads.
EdgeSpread edgeSpreadOf(const UsableProfile& profile, double sigmaInPlane, double sigmaThroughPlane)
{
  MetalModel spreads;
  spreads.sigmaInPlane = sigmaInPlane;
  spreads.sigmaThroughPlane = sigmaThroughPlane;
  return { spreads.edgeSigma(profile.sliceComponent),
    profile.sampling.curvature.edgeShift(sigmaInPlane, sigmaThroughPlane) };
}

EdgeSpread edgeSpreadOf(const UsableProfile& profile, const MetalModel& model)
{
  return { model.edgeSigma(profile.sliceComponent), model.edgeShift(profile.sampling.curvature) };
}

/// The metal shares a profile's usable samples read for an edge, appended to `shares`.
void appendShares(const UsableProfile& profile, EdgeSpread edge, std::vector<double>& shares)
{
  const std::size_t offset = shares.size();
  shares.resize(offset + profile.distances.size());
  profile.sampling.sharesAlong(profile.distances.data(),
    profile.distances.size(),
    edge.sigma,
    edge.shift,
    shares.data() + offset);
}

/// A profile's constant tissue level that fits best (least squares) for given metal shares (one
/// per usable sample) and metal value.
double tissueLevel(const UsableProfile& profile, const double* shares, double metal)
{
  double numerator = 0.0;
  double denominator = 0.0;
  for (std::size_t i = 0; i < profile.values.size(); ++i)
  {
    const double w = shares[i];
    numerator += (1.0 - w) * (profile.values[i] - w * metal);
    denominator += (1.0 - w) * (1.0 - w);
  }
  return std::clamp(
    denominator > 1e-9 ? numerator / denominator : 0.0, LowestTissueHU, HighestTissueHU);
}

/// Robust loss of one profile for given metal shares (one per usable sample) and metal value;
/// the profile's tissue level is its least-squares best.
double profileLoss(const UsableProfile& profile,
  const double* shares,
  double metal,
  double scale,
  std::vector<double>* residuals = nullptr)
{
  const double tissue = tissueLevel(profile, shares, metal);
  double loss = 0.0;
  for (std::size_t i = 0; i < profile.values.size(); ++i)
  {
    const double w = shares[i];
    const double residual = profile.values[i] - w * metal - (1.0 - w) * tissue;
    loss += robustLoss(residual, scale);
    if (residuals && w > 0.05 && w < 0.5)
    {
      residuals->push_back(std::abs(residual));
    }
  }
  return loss;
}

/// Minimises a function of one variable over [low, high] by nested grids (each level spans one
/// step of the last on either side of its best point): enough for a function with one minimum.
/// `evaluate` gets the points of a level and returns their values. Returns the best point.
double nestedGridMinimum(double low,
  double high,
  const std::function<std::vector<double>(const std::vector<double>&)>& evaluate,
  double* finalStep = nullptr)
{
  double step = (high - low) / (GridPoints - 1);
  double start = low;
  double best = low;
  for (int level = 0; level < GridLevels && step > 0.0; ++level)
  {
    std::vector<double> points(GridPoints);
    for (int i = 0; i < GridPoints; ++i)
    {
      points[i] = start + i * step;
    }
    const std::vector<double> values = evaluate(points);
    best = points[std::min_element(values.begin(), values.end()) - values.begin()];
    step *= 2.0 / (GridPoints - 1);
    start = best - 0.5 * (GridPoints - 1) * step;
  }
  if (finalStep)
  {
    *finalStep = step;
  }
  return best;
}

/// Minimises a function of one variable over [low, high]: the best of GridPoints evenly spaced
/// points, then a golden-section search within a grid step either side of it, down to the
/// precision nested grids reach (a step / 4^(GridLevels - 1)) with half the evaluations.
double coarseThenGoldenMinimum(double low, double high, const std::function<double(double)>& f)
{
  const double step = (high - low) / (GridPoints - 1);
  double best = low;
  double bestValue = std::numeric_limits<double>::infinity();
  for (int i = 0; i < GridPoints; ++i)
  {
    const double x = low + i * step;
    const double value = f(x);
    if (value < bestValue)
    {
      best = x;
      bestValue = value;
    }
  }
  const double tolerance = step / std::pow(4.0, GridLevels - 1);
  const double ratio = 0.5 * (std::sqrt(5.0) - 1.0);
  double a = std::max(low, best - step);
  double b = std::min(high, best + step);
  double c = b - ratio * (b - a);
  double d = a + ratio * (b - a);
  double fc = f(c);
  double fd = f(d);
  while (b - a > tolerance)
  {
    if (fc < fd)
    {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = f(c);
    }
    else
    {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = f(d);
    }
  }
  const double inner = fc < fd ? c : d;
  return std::min(fc, fd) <= bestValue ? inner : best;
}

/// The best metal value (log) for one spread choice, and the loss there.
struct SpreadFit
{
  double logMetal = 0.0;
  double loss = std::numeric_limits<double>::infinity();
};

/// For one spread choice (`edgeOf` gives each profile's edge): the shares once, then the
/// metal value that fits best, by nested grids over [logMetalLow, logMetalHigh]. Searching the
/// metal value for each spread, rather than both on one grid, follows the narrow valley along
/// which a wider spread and a lower metal value fit a clipped tail about equally well.
SpreadFit bestMetalFor(const std::vector<const UsableProfile*>& profiles,
  const std::function<EdgeSpread(const UsableProfile&)>& edgeOf,
  double logMetalLow,
  double logMetalHigh,
  double scale)
{
  std::vector<double> shares;
  for (const UsableProfile* profile : profiles)
  {
    appendShares(*profile, edgeOf(*profile), shares);
  }
  // Each profile's least-squares tissue level is (a - metal b) / c: the sums once per spread.
  std::vector<std::array<double, 3>> sums(profiles.size(), { 0.0, 0.0, 0.0 });
  std::size_t offset = 0;
  for (std::size_t p = 0; p < profiles.size(); ++p)
  {
    for (std::size_t i = 0; i < profiles[p]->values.size(); ++i)
    {
      const double w = shares[offset + i];
      sums[p][0] += (1.0 - w) * profiles[p]->values[i];
      sums[p][1] += (1.0 - w) * w;
      sums[p][2] += (1.0 - w) * (1.0 - w);
    }
    offset += profiles[p]->values.size();
  }
  // The profiles' values side by side with their shares, for the loop below: the fit evaluates
  // it a few hundred times per spread.
  std::vector<double> values;
  values.reserve(shares.size());
  for (const UsableProfile* profile : profiles)
  {
    values.insert(values.end(), profile->values.begin(), profile->values.end());
  }
  const double inverseScale = 1.0 / scale;
  auto lossAt = [&](double logMetal)
  {
    const double metal = std::exp(logMetal);
    double loss = 0.0;
    std::size_t first = 0;
    for (std::size_t p = 0; p < profiles.size(); ++p)
    {
      const double tissue = std::clamp(sums[p][2] > 1e-9
          ? (sums[p][0] - metal * sums[p][1]) / sums[p][2]
          : 0.0,
        LowestTissueHU, HighestTissueHU);
      const std::size_t end = first + profiles[p]->values.size();
      // Four independent sums, so that the compiler can evaluate samples side by side.
      double partial[4] = { 0.0, 0.0, 0.0, 0.0 };
      std::size_t i = first;
      for (; i + 4 <= end; i += 4)
      {
        for (int k = 0; k < 4; ++k)
        {
          const double w = shares[i + k];
          const double r = (values[i + k] - w * metal - (1.0 - w) * tissue) * inverseScale;
          partial[k] += r * r / (1.0 + r * r);
        }
      }
      for (; i < end; ++i)
      {
        const double w = shares[i];
        const double r = (values[i] - w * metal - (1.0 - w) * tissue) * inverseScale;
        partial[0] += r * r / (1.0 + r * r);
      }
      loss += (partial[0] + partial[1]) + (partial[2] + partial[3]);
      first = end;
    }
    return loss;
  };
  SpreadFit fit;
  fit.logMetal = logMetalHigh > logMetalLow ? coarseThenGoldenMinimum(logMetalLow, logMetalHigh, lossAt)
                                            : logMetalLow;
  fit.loss = lossAt(fit.logMetal);
  return fit;
}

/// The spread (log) whose best metal value fits best, by nested grids over [low, high], the
/// spreads of a level evaluated in parallel.
std::pair<double, SpreadFit> bestSpread(double low,
  double high,
  const std::function<SpreadFit(double)>& fitFor,
  double& finalStep)
{
  std::vector<SpreadFit> fits;
  const double logSigma = nestedGridMinimum(low, high,
    [&](const std::vector<double>& logSigmas)
    {
      fits.assign(logSigmas.size(), SpreadFit());
      vtkSMPTools::For(0, static_cast<int>(logSigmas.size()),
        [&](int begin, int end)
        {
          for (int i = begin; i < end; ++i)
          {
            fits[i] = fitFor(logSigmas[i]);
          }
        });
      std::vector<double> losses;
      for (const SpreadFit& fit : fits)
      {
        losses.push_back(fit.loss);
      }
      return losses;
    },
    &finalStep);
  return { logSigma, fitFor(logSigma) };
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

/// Running median over +-halfWidth samples of values[first, count), NaN kept out, evaluated
/// as far as it is asked for: the search for the first bone along a profile mostly stops a few
/// samples out, and the probe runs it for every vertex. The window slides: the value leaving it
/// is taken out of the sorted window and the one entering put in.
class RunningMedian
{
public:
  static constexpr int MaximumWindow = 64;

  RunningMedian(const double* values,
    std::size_t first,
    std::size_t count,
    int halfWidth,
    std::vector<double>& result)
    : Values(values)
    , Count(count)
    , First(first)
    , Next(first)
    , Reach(static_cast<std::size_t>(std::min(halfWidth, (MaximumWindow - 1) / 2)))
    , Result(result)
  {
    this->Result.resize(count);
    for (std::size_t j = first; j < std::min(count, first + this->Reach); ++j)
    {
      this->Insert(values[j]);
    }
  }

  /// The median of the window about sample i (first <= i < count); NaN if it holds no value.
  double operator[](std::size_t i)
  {
    while (this->Next <= i)
    {
      this->Advance();
    }
    return this->Result[i];
  }

private:
  void Advance()
  {
    // The window [i - Reach, i + Reach], clipped to [First, Count).
    const std::size_t i = this->Next++;
    if (i + this->Reach < this->Count)
    {
      this->Insert(this->Values[i + this->Reach]);
    }
    if (i >= this->First + this->Reach + 1)
    {
      this->Remove(this->Values[i - this->Reach - 1]);
    }
    const int size = this->Size;
    const double* window = this->Window;
    this->Result[i] = size == 0 ? std::numeric_limits<double>::quiet_NaN()
      : size % 2                ? window[size / 2]
                                : 0.5 * (window[size / 2 - 1] + window[size / 2]);
  }

  void Insert(double value)
  {
    if (!std::isfinite(value))
    {
      return;
    }
    int k = this->Size++;
    while (k > 0 && this->Window[k - 1] > value)
    {
      this->Window[k] = this->Window[k - 1];
      --k;
    }
    this->Window[k] = value;
  }

  void Remove(double value)
  {
    if (!std::isfinite(value))
    {
      return;
    }
    int k = 0;
    while (k < this->Size && this->Window[k] != value)
    {
      ++k;
    }
    for (--this->Size; k < this->Size; ++k)
    {
      this->Window[k] = this->Window[k + 1];
    }
  }

  const double* Values;
  const std::size_t Count;
  const std::size_t First;
  std::size_t Next;
  const std::size_t Reach;
  std::vector<double>& Result;
  double Window[MaximumWindow];
  int Size = 0;
};

/// Median of the finite values at distances in [from, to].
double bandMedian(const std::vector<double>& distances,
  const double* values,
  double from,
  double to,
  std::vector<double>& band)
{
  band.clear();
  for (std::size_t i = 0; i < distances.size(); ++i)
  {
    if (distances[i] >= from - 1e-9 && distances[i] <= to + 1e-9 && std::isfinite(values[i]))
    {
      band.push_back(values[i]);
    }
  }
  return medianInPlace(band);
}

/// The working buffers of one vertex's reading, kept from vertex to vertex (one set per thread:
/// the probe reads every vertex, and allocating them each time cost a tenth of its time).
struct ReadingBuffers
{
  std::vector<char> trusted;
  std::vector<double> shares;
  std::vector<double> innermostShares;
  std::vector<double> smooth;
  std::vector<double> band;
  std::vector<double> levels;
};

/// A vertex's metal-corrected tissue profile over [0, maximumInterfaceSearch].
struct CorrectedProfile
{
  std::vector<double> tissue; ///< NaN where the metal hides it
  std::size_t first = 0;      ///< samples [first, last) lie in [0, maximumInterfaceSearch]
  std::size_t last = 0;
  std::size_t start = 0;      ///< from here on every sample is trusted
  bool outside = false;       ///< a sample in that range lies outside the volume
};

/// Fills `profile` (its buffers are reused from vertex to vertex).
void correctProfile(const MetalModel& model,
  double sigma,
  const EdgeShift& shift,
  const ProfileSampling& sampling,
  const std::vector<double>& distances,
  const double* values,
  const ContactRule& rule,
  CorrectedProfile& profile,
  ReadingBuffers& buffers)
{
  const std::size_t count = distances.size();
  profile.tissue.assign(count, std::numeric_limits<double>::quiet_NaN());
  std::vector<char>& trusted = buffers.trusted;
  trusted.assign(count, 0);
  profile.first = count;
  profile.last = 0;
  profile.start = 0;
  profile.outside = false;
  // The metal's shares where they are not negligible, the samples [nearFirst, nearEnd).
  const double metalReach = NegligibleMetalReach * sigma + sampling.reach();
  const std::size_t nearFirst = static_cast<std::size_t>(
    std::lower_bound(distances.begin(), distances.end(), 0.0) - distances.begin());
  const std::size_t nearEnd = static_cast<std::size_t>(
    std::upper_bound(distances.begin(), distances.end(),
      std::min(metalReach, rule.maximumInterfaceSearch + 1e-9)) -
    distances.begin());
  std::vector<double>& shares = buffers.shares;
  std::vector<double>& innermostShares = buffers.innermostShares;
  shares.assign(count, 0.0);
  innermostShares.assign(count, 0.0);
  if (model.valid && nearEnd > nearFirst)
  {
    sampling.sharesAlong(distances.data() + nearFirst,
      nearEnd - nearFirst,
      sigma,
      shift,
      shares.data() + nearFirst,
      innermostShares.data() + nearFirst);
  }
  for (std::size_t i = 0; i < count; ++i)
  {
    const double d = distances[i];
    if (d < 0.0 || d > rule.maximumInterfaceSearch + 1e-9)
    {
      continue;
    }
    profile.first = std::min(profile.first, i);
    profile.last = i + 1;
    if (!std::isfinite(values[i]))
    {
      profile.outside = true;
      return;
    }
    if (!model.valid)
    {
      profile.tissue[i] = values[i];
      trusted[i] = 1;
      continue;
    }
    if (d > metalReach)
    {
      // The metal's share is negligible even at the nearest voxel read: tissue only, but for
      // what the model leaves out.
      profile.tissue[i] = values[i] - model.tissueResidualAt(d / sigma);
      trusted[i] = 1;
      continue;
    }
    const double w = shares[i];
    if (w >= 0.5 || values[i] >= model.clipHU - 1.0)
    {
      continue;
    }
    // How far the metal term could be off here, from the precision of the spread and the metal
    // value.
    const double u = (d + shift.at(d)) / sigma;
    const double slopeInLogSigma = InverseSqrtTwoPi * std::exp(-0.5 * u * u) * u;
    const double uncertainty = model.metalHU *
      (slopeInLogSigma * model.relativeSigmaError + w * model.relativeMetalError) / (1.0 - w);
    const double tissue =
      (values[i] - w * model.metalHU) / (1.0 - w) - model.tissueResidualAt(u);
    const double innermost = innermostShares[i];
    if ((1.0 - innermost) * tissue + innermost * model.metalHU >= model.clipHU - 1.0)
    {
      continue; // a voxel it reads is clipped: the sample reads low, the model cannot say how
    }
    profile.tissue[i] = tissue;
    // Trusted where the metal term is precise, or precise enough that the sample is clearly
    // bone or clearly not.
    trusted[i] = uncertainty <= rule.maximumUncertaintyHU ||
        (uncertainty <= DecisiveUncertaintyCap &&
          std::abs(tissue - rule.boneThresholdHU) > DecisionMargin * uncertainty)
      ? 1
      : 0;
  }
  if (profile.first == count)
  {
    profile.outside = true;
    return;
  }
  // Trusted from the first sample after which every sample is trusted (the metal term's
  // uncertainty falls with the distance once past its peak).
  profile.start = profile.last;
  while (profile.start > profile.first && trusted[profile.start - 1])
  {
    --profile.start;
  }
}

/// The first non-bone layer along a corrected profile.
struct Interface
{
  double width = 0.0;         ///< mm from the surface to the half-way point into bone
  bool lowerBound = false;    ///< no bone within reach
  double layerLevel = std::numeric_limits<double>::quiet_NaN(); ///< the layer's own HU
};

Interface findInterface(const std::vector<double>& distances,
  const CorrectedProfile& profile,
  const ContactRule& rule,
  ReadingBuffers& buffers)
{
  const std::size_t start = profile.start;
  const std::size_t last = profile.last;
  const std::vector<double>& tissue = profile.tissue;
  const double step = (distances[last - 1] - distances[profile.first]) /
    std::max<double>(1.0, static_cast<double>(last - profile.first - 1));
  const int halfWidth = std::max(1, static_cast<int>(std::lround(SmoothingHalfWidth / step)));
  RunningMedian smooth(tissue.data(), start, last, halfWidth, buffers.smooth);

  // The first bone: above the threshold over BonePersistence.
  const int persistence = std::max(1, static_cast<int>(std::lround(BonePersistence / step)));
  std::size_t bone = last;
  for (std::size_t i = start; i < last && bone == last; ++i)
  {
    bool holds = true;
    for (std::size_t j = i; j < std::min(last, i + persistence) && holds; ++j)
    {
      holds = smooth[j] >= rule.boneThresholdHU;
    }
    bone = holds ? i : last;
  }
  Interface found;
  if (bone == last)
  {
    found.width = distances[last - 1];
    found.lowerBound = true;
    return found;
  }
  double peak = -std::numeric_limits<double>::infinity();
  for (std::size_t i = bone;
       i < last && distances[i] <= distances[bone] + BoneLevelReach * rule.tissueSigma; ++i)
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
  if (bone == start && !edgeBeyondStart)
  {
    return found; // bone touches (as far as the metal lets us see)
  }
  // The layer in front of the bone, clear of the bone's blurred edge (else a soft-tissue
  // level), and the bone's level; the edge is half-way between them.
  double front = edgeBeyondStart
    ? 0.0
    : bandMedian(distances,
        tissue.data(),
        distances[start],
        std::max(distances[start], distances[bone] - 2.0 * rule.tissueSigma),
        buffers.band);
  // A layer's own level sits well below the bone threshold (fibrous tissue, fat); a front level
  // near it is the bone's blur and the metal's leaking into a thin layer, and would put the
  // half-way point too far out.
  front = std::min(front, LayerCeilingShare * rule.boneThresholdHU);
  const double halfWay = 0.5 * (front + peak);
  found.width = distances[start];
  for (std::size_t i = start + 1; i < last; ++i)
  {
    if (smooth[i] >= halfWay)
    {
      const double t = (halfWay - smooth[i - 1]) / (smooth[i] - smooth[i - 1]);
      found.width = distances[i - 1] + std::clamp(t, 0.0, 1.0) * (distances[i] - distances[i - 1]);
      break;
    }
  }
  // The layer's own level: each sample in front of the edge with the bone's blurred share
  // taken out.
  std::vector<double>& levels = buffers.levels;
  levels.clear();
  for (std::size_t i = start; i < last && distances[i] < found.width; ++i)
  {
    const double boneShare = 1.0 - shareAt(distances[i] - found.width, rule.tissueSigma);
    if (boneShare < 0.5 && std::isfinite(tissue[i]))
    {
      levels.push_back((tissue[i] - peak * boneShare) / (1.0 - boneShare));
    }
  }
  found.layerLevel = levels.empty() ? front : medianInPlace(levels);
  return found;
}
/// Fits the metal value and the spreads to the usable profiles (model.clipHU set); false when
/// there is nothing to fit.
bool fitSpreads(const std::vector<UsableProfile>& usable, const FitOptions& options,
  MetalModel& model)
{
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
    return false;
  }
  const double scale = options.robustScale;

  // --- Stage 1: metal value and in-plane spread, on log grids.
  const double lowMetal = std::isfinite(model.clipHU) ? std::max(MinimumMetalHU, model.clipHU)
                                                      : MinimumMetalHU;
  const double logMetalLow = std::log(lowMetal);
  const double logMetalHigh = std::log(options.maximumMetalHU);
  auto inPlaneFit = [&](double logSigma)
  {
    const double sigma = std::exp(logSigma);
    return bestMetalFor(
      inPlane,
      [&](const UsableProfile& p) { return edgeSpreadOf(p, sigma, sigma); },
      logMetalLow,
      logMetalHigh,
      scale);
  };
  double sigmaStep = 0.0;
  const auto [logSigma, best] = bestSpread(
    std::log(options.minimumSigma), std::log(options.maximumSigma), inPlaneFit, sigmaStep);
  model.metalHU = std::exp(best.logMetal);
  model.sigmaInPlane = std::exp(logSigma);
  model.profilesUsed = static_cast<std::int64_t>(inPlane.size() + throughPlane.size());

  // The residual's spread, and the precisions from the loss's curvature over a few final steps
  // (a single step is too fine to see it): the spread's with the metal value following it, the
  // metal value's at the fitted spread.
  std::vector<double> residuals;
  std::vector<double> shares;
  for (const UsableProfile* profile : inPlane)
  {
    appendShares(*profile, edgeSpreadOf(*profile, model.sigmaInPlane, model.sigmaInPlane), shares);
  }
  auto lossAtMetal = [&](double metal, std::vector<double>* collect)
  {
    double loss = 0.0;
    std::size_t offset = 0;
    for (const UsableProfile* profile : inPlane)
    {
      loss += profileLoss(*profile, shares.data() + offset, metal, scale, collect);
      offset += profile->values.size();
    }
    return loss;
  };
  lossAtMetal(model.metalHU, &residuals);
  model.residualHU = 1.4826 * medianInPlace(residuals);
  if (!std::isfinite(model.residualHU))
  {
    model.residualHU = scale;
  }
  const double metalStep = 0.01;
  model.relativeMetalError =
    relativePrecision(lossAtMetal(model.metalHU * std::exp(-metalStep), nullptr), best.loss,
      lossAtMetal(model.metalHU * std::exp(metalStep), nullptr), metalStep, model.residualHU,
      scale);
  sigmaStep *= 4.0;
  model.relativeSigmaError = relativePrecision(inPlaneFit(logSigma - sigmaStep).loss, best.loss,
    inPlaneFit(logSigma + sigmaStep).loss, sigmaStep, model.residualHU, scale);

  // --- Stage 2: the through-plane spread, with the metal value fixed.
  const double boxDifference = (options.sliceSpacing * options.sliceSpacing -
                                 options.inPlaneSpacing * options.inPlaneSpacing) /
    12.0;
  model.sigmaThroughPlane =
    std::sqrt(std::max(0.01, model.sigmaInPlane * model.sigmaInPlane + boxDifference));
  if (throughPlane.size() >= static_cast<std::size_t>(options.minimumThroughPlaneProfiles))
  {
    double zStep = 0.0;
    model.sigmaThroughPlane = std::exp(bestSpread(std::log(options.minimumSigma),
      std::log(options.maximumSigma),
      [&](double logSigmaZ)
      {
        MetalModel trial = model;
        trial.sigmaThroughPlane = std::exp(logSigmaZ);
        return bestMetalFor(
          throughPlane,
          [&](const UsableProfile& p) { return edgeSpreadOf(p, trial); },
          best.logMetal,
          best.logMetal,
          scale);
      },
      zStep)
                                         .first);
    model.throughPlaneFitted = true;
  }
  // The blur along the slices that bends a curved edge: the fitted spread, but no more than the
  // in-plane one widened by the slice's box, since along thick slices the fit also takes up what
  // the model leaves out (2.5 mm fitted for 3 mm slices whose edge is 1.2 mm wide), and the tip
  // of a stem on 3 mm slices read 0.86 with it instead of 0.99.
  model.curvatureSigmaThroughPlane = std::min(model.sigmaThroughPlane,
    std::sqrt(model.sigmaInPlane * model.sigmaInPlane + std::max(0.0, boxDifference)));

  return true;
}

/// Ends each profile's fit window before its first tissue edge as the model so far shows it: a
/// profile's tissue level is one constant in the fit, and a membrane in front of bone (common to
/// every vertex of a loosened stem) would otherwise bend the fitted tail.
void trimAtTissueEdges(
  std::vector<UsableProfile>& usable, const MetalModel& model, double edgeStep = TissueEdgeStep)
{
  for (UsableProfile& profile : usable)
  {
    const EdgeSpread edge = edgeSpreadOf(profile, model);
    double reference = std::numeric_limits<double>::quiet_NaN();
    std::size_t keep = profile.distances.size();
    for (std::size_t i = 0; i < profile.distances.size(); ++i)
    {
      const double d = profile.distances[i];
      const double w = profile.sampling.share(d, edge.sigma, edge.shift);
      if (d < 0.0 || w > ReferenceShare)
      {
        continue;
      }
      const double tissue = (profile.values[i] - w * model.metalHU) / (1.0 - w);
      if (std::isnan(reference))
      {
        reference = tissue;
      }
      else if (std::abs(tissue - reference) > edgeStep)
      {
        // Drop the edge and its blurred approach.
        keep = i;
        while (keep > 0 && profile.distances[keep - 1] > d - TissueEdgeMargin)
        {
          --keep;
        }
        break;
      }
    }
    profile.distances.resize(keep);
    profile.values.resize(keep);
  }
  usable.erase(std::remove_if(usable.begin(), usable.end(),
                 [](const UsableProfile& p) { return p.distances.size() < 4; }),
    usable.end());
}
/// The model's remaining error in the tissue domain by distance in edge spreads (see
/// MetalModel::tissueResidual), from the fit's own profiles, each cut before its first tissue
/// edge: the departure of each corrected sample from its profile's fitted tissue level. The
/// median over all profiles keeps out the few whose tissue changes inside the window. Bins seen
/// by too few samples are left NaN.
std::vector<double> measureTissueResidual(const std::vector<UsableProfile>& usable,
  const MetalModel& model)
{
  const auto bins =
    static_cast<std::size_t>(std::ceil(ResidualReach / MetalModel::residualBinWidth));
  std::vector<std::vector<double>> departures(bins);
  std::vector<double> shares;
  std::vector<double> corrected;
  std::vector<double> anchor;
  for (const UsableProfile& profile : usable)
  {
    const EdgeSpread edge = edgeSpreadOf(profile, model);
    const double sigma = edge.sigma;
    shares.clear();
    appendShares(profile, edge, shares);
    corrected.assign(profile.distances.size(), std::numeric_limits<double>::quiet_NaN());
    anchor.clear();
    for (std::size_t i = 0; i < profile.distances.size(); ++i)
    {
      const double w = shares[i];
      if (profile.distances[i] >= 0.0 && w < 0.5)
      {
        corrected[i] = (profile.values[i] - w * model.metalHU) / (1.0 - w);
        if (profile.distances[i] >= ResidualAnchor * sigma)
        {
          anchor.push_back(corrected[i]);
        }
      }
    }
    const double tissue = anchor.size() >= MinimumAnchorSamples
      ? medianInPlace(anchor)
      : tissueLevel(profile, shares.data(), model.metalHU);
    for (std::size_t i = 0; i < profile.distances.size(); ++i)
    {
      const auto bin =
        static_cast<std::size_t>(profile.distances[i] / sigma / MetalModel::residualBinWidth);
      if (std::isfinite(corrected[i]) && bin < bins)
      {
        departures[bin].push_back(corrected[i] - tissue);
      }
    }
  }
  std::vector<double> residual(bins, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t b = 0; b < bins; ++b)
  {
    if (departures[b].size() >= MinimumResidualSamples)
    {
      residual[b] = medianInPlace(departures[b]);
    }
  }
  // Bins nobody measured: beyond the last measured one, the residual's ramp to 0 (see
  // tissueResidualAt); before the first, its value; between two, the line between them.
  while (!residual.empty() && std::isnan(residual.back()))
  {
    residual.pop_back();
  }
  std::size_t previous = residual.size();
  for (std::size_t b = 0; b < residual.size(); ++b)
  {
    if (std::isnan(residual[b]))
    {
      continue;
    }
    for (std::size_t gap = previous == residual.size() ? 0 : previous + 1; gap < b; ++gap)
    {
      const double t = previous == residual.size()
        ? 1.0
        : static_cast<double>(gap - previous) / static_cast<double>(b - previous);
      residual[gap] = previous == residual.size()
        ? residual[b]
        : residual[previous] + t * (residual[b] - residual[previous]);
    }
    previous = b;
  }
  return residual;
}
} // namespace

double MetalModel::tissueResidualAt(double spreads) const
{
  // Bin centres carry the measured values; beyond the last, the residual falls linearly to 0
  // at ResidualReach.
  const double width = MetalModel::residualBinWidth;
  const std::vector<double>& r = this->tissueResidual;
  if (r.empty() || !(spreads >= 0.0) || spreads >= ResidualReach)
  {
    return 0.0;
  }
  auto valueAt = [&](std::ptrdiff_t bin, double& centre)
  {
    centre = (static_cast<double>(bin) + 0.5) * width;
    if (bin >= static_cast<std::ptrdiff_t>(r.size()))
    {
      centre = ResidualReach;
      return 0.0;
    }
    return r[static_cast<std::size_t>(std::max<std::ptrdiff_t>(bin, 0))];
  };
  const auto below = static_cast<std::ptrdiff_t>(std::floor(spreads / width - 0.5));
  double lowCentre = 0.0;
  double highCentre = 0.0;
  const double low = valueAt(below, lowCentre);
  const double high = valueAt(below + 1, highCentre);
  if (below < 0)
  {
    return high; // before the first centre: its value
  }
  const double t = std::clamp((spreads - lowCentre) / (highCentre - lowCentre), 0.0, 1.0);
  return low + t * (high - low);
}

double ProfileSampling::share(double distance, double sigma, const EdgeShift& shift) const
{
  double value = 0.0;
  this->sharesAlong(&distance, 1, sigma, shift, &value);
  return value;
}

void ProfileSampling::sharesAlong(const double* distances,
  std::size_t count,
  double sigma,
  const EdgeShift& shift,
  double* shares,
  double* innermost) const
{
  if (this->kind == Point)
  {
    for (std::size_t i = 0; i < count; ++i)
    {
      shares[i] = shareAt(distances[i] + shift.at(distances[i]), sigma);
      if (innermost)
      {
        innermost[i] = shares[i];
      }
    }
    return;
  }
  // A voxel of the stencil lies mmPerIndex . (voxel - sample) farther along the normal than the
  // sample: the same distance from the surface for every sample that reads it, so its share is
  // evaluated once for the consecutive samples that lie in the same cell.
  const int corners = this->kind == Nearest ? 1 : 8;
  double cornerShares[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
  double cellNearest = 0.0; // the largest of the cell's corner shares
  double cell[3] = { std::numeric_limits<double>::quiet_NaN(), 0.0, 0.0 };
  for (std::size_t i = 0; i < count; ++i)
  {
    const double d = distances[i];
    double lower[3];
    double t[3];
    for (int axis = 0; axis < 3; ++axis)
    {
      const double x = this->base[axis] + d * this->step[axis];
      lower[axis] = this->kind == Nearest ? std::floor(x + 0.5) : std::floor(x);
      t[axis] = x - lower[axis];
    }
    if (!(lower[0] == cell[0] && lower[1] == cell[1] && lower[2] == cell[2]))
    {
      std::copy(lower, lower + 3, cell);
      for (int corner = 0; corner < corners; ++corner)
      {
        double voxelDistance = d;
        for (int axis = 0; axis < 3; ++axis)
        {
          const int upper = (corner >> axis) & 1;
          voxelDistance += (upper - t[axis]) * this->mmPerIndex[axis];
        }
        cornerShares[corner] = shareAt(voxelDistance + shift.at(voxelDistance), sigma);
      }
      cellNearest = *std::max_element(cornerShares, cornerShares + corners);
    }
    if (this->kind == Nearest)
    {
      shares[i] = cornerShares[0];
      if (innermost)
      {
        innermost[i] = cornerShares[0];
      }
      continue;
    }
    const double weights[3][2] = {
      { 1.0 - t[0], t[0] }, { 1.0 - t[1], t[1] }, { 1.0 - t[2], t[2] }
    };
    double share = 0.0;
    for (int corner = 0; corner < 8; ++corner)
    {
      share += weights[0][corner & 1] * weights[1][(corner >> 1) & 1] *
        weights[2][(corner >> 2) & 1] * cornerShares[corner];
    }
    shares[i] = share;
    if (innermost)
    {
      innermost[i] = cellNearest;
    }
  }
}

double ProfileSampling::reach() const
{
  return std::abs(this->mmPerIndex[0]) + std::abs(this->mmPerIndex[1]) +
    std::abs(this->mmPerIndex[2]);
}

double MetalModel::edgeSigma(double sliceComponent) const
{
  const double c2 = std::min(1.0, sliceComponent * sliceComponent);
  return std::sqrt(this->sigmaInPlane * this->sigmaInPlane * (1.0 - c2) +
    this->sigmaThroughPlane * this->sigmaThroughPlane * c2);
}

EdgeShift SurfaceCurvature::edgeShift(double sigmaInPlane, double sigmaThroughPlane) const
{
  const double inPlane2 = sigmaInPlane * sigmaInPlane;
  const double throughPlane2 = sigmaThroughPlane * sigmaThroughPlane;
  EdgeShift shift;
  for (int i = 0; i < 2; ++i)
  {
    const double variance = inPlane2 + (throughPlane2 - inPlane2) * this->sliceShare[i];
    shift.coefficient[i] = 0.5 * variance * this->principal[i];
    shift.curvature[i] = this->principal[i];
  }
  // Beyond half a spread at the surface (a radius near the spread itself) the expansion in the
  // curvature no longer holds, and a noisy surface must not move the edge far.
  const double atSurface = shift.coefficient[0] + shift.coefficient[1];
  const double limit = MaximumCurvatureShift * std::max(sigmaInPlane, sigmaThroughPlane);
  if (std::abs(atSurface) > limit)
  {
    shift.coefficient[0] *= limit / std::abs(atSurface);
    shift.coefficient[1] *= limit / std::abs(atSurface);
  }
  return shift;
}

EdgeShift MetalModel::edgeShift(const SurfaceCurvature& curvature) const
{
  return curvature.edgeShift(this->sigmaInPlane, this->curvatureSigmaThroughPlane);
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
  std::vector<UsableProfile> usable = usableProfiles(profiles, options, model.clipHU);
  if (!fitSpreads(usable, options, model))
  {
    return model;
  }
  // Once more, each profile only up to its first tissue edge.
  trimAtTissueEdges(usable, model);
  if (!fitSpreads(usable, options, model))
  {
    return model;
  }
  // The residual is measured on profiles cut at smaller tissue edges still: a fibrous layer in
  // front of cancellous bone, common to every vertex of a loosened stem, would otherwise show
  // as the model's error and be taken out of every profile.
  FitOptions wide = options;
  wide.fitEnd = profiles.distances.empty() ? options.fitEnd : profiles.distances.back();
  std::vector<UsableProfile> flat = usableProfiles(profiles, wide, model.clipHU);
  trimAtTissueEdges(flat, model, ResidualEdgeStep);
  model.tissueResidual = measureTissueResidual(flat, model);

  // --- Is there a metal at all? Inside the surface the CT must read far above any tissue.
  std::vector<double> inside;
  const std::size_t samples = profiles.distances.size();
  for (std::size_t p = 0; p < profiles.count(); ++p)
  {
    for (std::size_t s = 0; s < samples; ++s)
    {
      const double value = profiles.values[p * samples + s];
      if (std::abs(profiles.distances[s] + 1.0) < 0.01 && std::isfinite(value))
      {
        inside.push_back(value);
      }
    }
  }
  model.valid = model.metalHU > MinimumMetalHU && medianInPlace(inside) > 0.5 * MinimumMetalHU;
  return model;
}

ContactReading readContact(const MetalModel& model,
  double sliceComponent,
  const std::vector<double>& distances,
  const double* values,
  const ContactRule& rule,
  const ProfileSampling* sampling,
  double* corrected)
{
  ContactReading reading;
  const double sigma = model.valid ? model.edgeSigma(sliceComponent) : 1.0;
  const EdgeShift shift =
    model.valid && sampling ? model.edgeShift(sampling->curvature) : EdgeShift();
  thread_local CorrectedProfile profile;
  thread_local ReadingBuffers buffers;
  correctProfile(model,
    sigma,
    shift,
    sampling ? *sampling : ProfileSampling(),
    distances,
    values,
    rule,
    profile,
    buffers);
  if (profile.outside)
  {
    reading.status = ReadingStatus::OutsideVolume;
    return reading;
  }
  const std::size_t start = profile.start;
  const std::size_t last = profile.last;
  if (corrected)
  {
    for (std::size_t i = 0; i < distances.size(); ++i)
    {
      corrected[i] =
        i >= start && i < last ? profile.tissue[i] : std::numeric_limits<double>::quiet_NaN();
    }
  }
  if (start == last)
  {
    // The metal dominates the whole profile: report its end, with no confidence.
    reading.status = ReadingStatus::MetalEverywhere;
    reading.value =
      std::isfinite(profile.tissue[last - 1]) ? profile.tissue[last - 1] : values[last - 1];
    reading.distance = distances[last - 1];
    reading.confidence = 0.0;
    return reading;
  }
  reading.trustedFrom = distances[start];
  const Interface layer = findInterface(distances, profile, rule, buffers);
  reading.interfaceWidth = layer.width;
  reading.interfaceIsLowerBound = layer.lowerBound;

  // The tissue at the contact distance.
  const double bandStart = rule.contactDistance - rule.bandHalfWidth;
  const double bandWidth = 2.0 * rule.bandHalfWidth;
  double from = std::max(bandStart, distances[start]);
  const bool edgeNearBand = layer.width > 0.0 && !layer.lowerBound &&
    layer.width > rule.contactDistance - EdgeNearBandInside * rule.tissueSigma &&
    layer.width < rule.contactDistance + EdgeNearBandOutside * rule.tissueSigma;
  if (edgeNearBand)
  {
    // The layer's edge lies about at the contact distance, where a thin layer's width is the
    // least certain: the tissue the band actually reads, blurred as it is.
    from = std::min(from, distances[last - 1] - bandWidth);
    reading.value =
      bandMedian(distances, profile.tissue.data(), from, from + bandWidth, buffers.band);
    reading.distance = from + rule.bandHalfWidth;
  }
  else if (layer.width > rule.contactDistance && std::isfinite(layer.layerLevel))
  {
    // The non-bone layer reaches beyond the contact distance: its own level.
    reading.value = layer.layerLevel;
    reading.distance = 0.5 * (distances[start] + layer.width);
  }
  else
  {
    if (layer.width > 0.0 && !layer.lowerBound)
    {
      // A thin layer in front: read the bone behind it, clear of its blurred edge.
      from = std::max(from, layer.width + 1.5 * rule.tissueSigma);
    }
    from = std::min(from, distances[last - 1] - bandWidth);
    reading.value =
      bandMedian(distances, profile.tissue.data(), from, from + bandWidth, buffers.band);
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
