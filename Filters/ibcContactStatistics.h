// SPDX-License-Identifier: BSD-3-Clause
// Tissue classes and Gruen zone statistics: the algorithms of vtkCorticalClassify and
// vtkGruenZoneStats in plain C++. Reductions over MPI ranks are passed in as a Collective.
#ifndef ibcContactStatistics_h
#define ibcContactStatistics_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcCollective.h"
#include "ibcNormalProbe.h" // Triangle
#include "ibcVector.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ibc
{
namespace contact
{

/// Tissue classes of the point array TissueClass.
enum TissueClass : std::uint8_t
{
  NotSampled = 0,
  SoftTissue = 1,
  Cancellous = 2,
  Cortical = 3
};

struct Thresholds
{
  double cancellous = 150.0; ///< lowest HU of cancellous bone
  double cortical = 700.0;   ///< lowest HU of cortical bone
};

enum class Preset
{
  Custom = 0,
  PedicleScrewPlanner = 1, ///< soft < 130 <= cancellous < 250 <= cortical
  MimicsAdult = 2,         ///< spongial 148-661, compact >= 662 (Mimics / InVesalius)
  CTMidpoints = 3          ///< 150 / 700: midway between typical fibrous, cancellous, cortical HU
};

IMPLANTBONECONTACTFILTERS_EXPORT Thresholds presetThresholds(Preset preset);

inline std::uint8_t classify(double value, Thresholds thresholds)
{
  if (!(value == value)) // NaN: not sampled
  {
    return NotSampled;
  }
  return value >= thresholds.cortical ? Cortical
                                      : (value >= thresholds.cancellous ? Cancellous : SoftTissue);
}

/// Two thresholds splitting a histogram in three classes with the largest between-class
/// variance (Otsu's method with two thresholds). bins[i] holds the weight of values in
/// [start + i * width, start + (i + 1) * width). Returns false for an empty histogram.
IMPLANTBONECONTACTFILTERS_EXPORT bool otsuThreeClasses(const std::vector<double>& bins,
  double start,
  double width,
  Thresholds& thresholds);

/// Each vertex's share of the surface: a third of the area of every triangle using it. On a
/// surface split over ranks, the shares of a repeated point add up to its serial share.
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<double> vertexAreas(const std::vector<Vec3>& points,
  const std::vector<probe::Triangle>& triangles);

/// Area-weighted majority vote of the classes of the points within radius of each point
/// (`neighbours` are extra points, e.g. from other ranks, that vote but are not smoothed).
/// Points that were not sampled keep class 0 and do not vote.
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<std::uint8_t> majorityVote(
  const std::vector<Vec3>& points,
  const std::vector<std::uint8_t>& classes,
  const std::vector<double>& areas,
  double radius,
  const std::vector<Vec3>& neighbourPoints,
  const std::vector<std::uint8_t>& neighbourClasses,
  const std::vector<double>& neighbourAreas);

/// Thresholds from the sampled values of the whole surface: three-class Otsu on their
/// area-weighted histogram (4 HU bins from -1024 HU), the bins summed over the ranks. NaN values
/// do not count. Collective; false (thresholds untouched) when no rank has a valid value.
IMPLANTBONECONTACTFILTERS_EXPORT bool automaticThresholds(const std::vector<double>& values,
  const std::vector<double>& areas,
  const Collective& comm,
  Thresholds& thresholds);

/// majorityVote over the whole surface: the points of other ranks within radius of this rank's
/// points (by bounding box) are exchanged and vote. Collective.
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<std::uint8_t> majorityVoteAcrossRanks(
  const std::vector<Vec3>& points,
  const std::vector<std::uint8_t>& classes,
  const std::vector<double>& areas,
  double radius,
  const Collective& comm);

/// The stem's frame: heights are measured along axis from tip.
struct StemFrame
{
  Vec3 tip;
  Vec3 axis;
  Vec3 medial;
  Vec3 anterior;
  double height = 0.0;        ///< from the tip to the highest point
  double proximalLimit = 0.0; ///< mm from the tip
  bool rightSide = true;
  bool valid = false;
  std::string problem; ///< why the frame could not be found, in words a user can act on
};

struct FrameOverrides
{
  bool useAxis = false;
  Vec3 axis; ///< from the tip towards the shoulder
  bool useMedial = false;
  Vec3 medial;
  int side = 0;                ///< 0 automatic (LPS patient frame), 1 left, 2 right
  double proximalLimit = -1.0; ///< < 0: automatic
};

/// Finds the stem frame from the surface alone (area-weighted, reduced over ranks): the long
/// axis is the principal axis of the distal 60 % of the stem, the tip its narrow end, the
/// moments are integrated over the triangles; the medial direction points to the neck, anterior
/// comes from the LPS patient frame (-y) or the given side, and the automatic proximal limit is the
/// calcar: the lowest level above mid-height where the medial outline leans more than 1 in 2 (the
/// start of the neck).
IMPLANTBONECONTACTFILTERS_EXPORT StemFrame findStemFrame(const std::vector<Vec3>& points,
  const std::vector<probe::Triangle>& triangles,
  const std::vector<double>& areas,
  const FrameOverrides& overrides,
  const Collective& comm);

enum class ZoneSet
{
  Both = 0,
  AnteroPosterior = 1, ///< zones 1-7 only (the AP radiograph)
  Lateral = 2          ///< zones 8-14 only (the lateral radiograph)
};

/// Gruen zone (0 above the proximal limit) of a point with its outward normal.
IMPLANTBONECONTACTFILTERS_EXPORT int zoneOf(Vec3 point,
  Vec3 normal,
  const StemFrame& frame,
  double tipZoneLength,
  ZoneSet zoneSet);

/// One row of the per-zone table.
struct ZoneRow
{
  int zone = 0;
  std::int64_t numberOfPoints = 0;
  double area = 0.0;
  double minimum = 0.0;
  double maximum = 0.0;
  double mean = 0.0;
  double standardDeviation = 0.0;
  double median = 0.0;
  double corticalFraction = 0.0;
  double cancellousFraction = 0.0;
  double softTissueFraction = 0.0;
  double validFraction = 0.0;
  /// From the probe's InterfaceWidth, over the zone's area where it is known (NaN without it).
  double interfaceWidthMean = 0.0;
  double interfaceOver1mmFraction = 0.0;
  double interfaceOver2mmFraction = 0.0;
  /// Share of the zone's whole area with a SampleConfidence of at least 0.5 (NaN without it).
  double confidentFraction = 0.0;
};

/// SampleConfidence at or above this counts as a confident sample in the zone table.
constexpr double ConfidentSample = 0.5;

/// Per-zone statistics, area-weighted (fractions of the zone's sampled area; ValidFraction of
/// its whole area), reduced over ranks; complete on rank 0. Row 0 is the whole stem below the
/// proximal limit. `owned` marks the points this rank counts in NumberOfPoints. The interface
/// widths and confidences (one per point, or empty) give the interface and confidence columns.
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<ZoneRow> zoneStatistics(const std::vector<int>& zones,
  const std::vector<double>& values,
  const std::vector<std::uint8_t>& classes,
  const std::vector<double>& areas,
  const std::vector<char>& owned,
  const std::vector<int>& zoneList,
  const Collective& comm,
  const std::vector<double>& interfaceWidths = {},
  const std::vector<double>& confidences = {});

} // namespace contact
} // namespace ibc

#endif
