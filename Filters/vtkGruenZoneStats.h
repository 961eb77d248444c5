// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkGruenZoneStats
 * @brief   splits a femoral stem into Gruen zones and tabulates the contact per zone
 *
 * Input: a stem surface with TissueClass (from vtkCorticalClassify) and a value array (e.g. HU
 * from vtkNormalOffsetProbe; its Normals are used when present).
 *
 * The stem frame is found from the surface (see ibc::contact::findStemFrame): long axis, tip,
 * medial direction towards the neck, anterior from the LPS patient frame or from Side, and the
 * proximal limit at the calcar unless given. Each can be overridden.
 *
 * Output port 0: the surface with point array GruenZone (1-14; 0 above the proximal limit) and
 * the frame in field data. Output port 1: a table with one row per zone and a row Zone = 0 for
 * the whole stem below the proximal limit: Zone, NumberOfPoints, Area (mm2), <value>Min, Max,
 * Mean, Std, Median, CorticalFraction, CancellousFraction, SoftTissueFraction, ValidFraction.
 * Means, standard deviations, medians and fractions are area-weighted (each vertex carries a
 * third of its triangles' area); the tissue fractions are shares of the zone's sampled area.
 * Under MPI the frame and the table are global (exact medians, shared points counted once)
 * and the table is on rank 0 only.
 */
#ifndef vtkGruenZoneStats_h
#define vtkGruenZoneStats_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcContactStatistics.h"            // for FrameOverrides
#include "vtkPolyDataAlgorithm.h"

class vtkMultiProcessController;

class IMPLANTBONECONTACTFILTERS_EXPORT vtkGruenZoneStats : public vtkPolyDataAlgorithm
{
public:
  static vtkGruenZoneStats* New();
  vtkTypeMacro(vtkGruenZoneStats, vtkPolyDataAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  enum SideType
  {
    AUTOMATIC_SIDE = 0,
    LEFT = 1,
    RIGHT = 2
  };
  enum ZoneSetType
  {
    BOTH = 0,
    ANTERO_POSTERIOR = 1,
    LATERAL = 2
  };

  vtkSetMacro(UseAxisDirection, bool);
  vtkGetMacro(UseAxisDirection, bool);
  vtkSetVector3Macro(AxisDirection, double);
  vtkGetVector3Macro(AxisDirection, double);
  vtkSetMacro(UseMedialDirection, bool);
  vtkGetMacro(UseMedialDirection, bool);
  vtkSetVector3Macro(MedialDirection, double);
  vtkGetVector3Macro(MedialDirection, double);
  vtkSetClampMacro(Side, int, AUTOMATIC_SIDE, RIGHT);
  vtkGetMacro(Side, int);
  /// mm from the tip; negative: automatic (the calcar).
  vtkSetMacro(ProximalLimit, double);
  vtkGetMacro(ProximalLimit, double);
  vtkSetClampMacro(TipZoneLength, double, 0.0, 100.0);
  vtkGetMacro(TipZoneLength, double);
  vtkSetClampMacro(ZoneSet, int, BOTH, LATERAL);
  vtkGetMacro(ZoneSet, int);

  void SetController(vtkMultiProcessController* controller);
  vtkGetObjectMacro(Controller, vtkMultiProcessController);

protected:
  vtkGruenZoneStats();
  ~vtkGruenZoneStats() override;
  int FillOutputPortInformation(int port, vtkInformation* info) override;
  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;

  bool UseAxisDirection = false;
  double AxisDirection[3] = { 0.0, 0.0, 1.0 };
  bool UseMedialDirection = false;
  double MedialDirection[3] = { 1.0, 0.0, 0.0 };
  int Side = AUTOMATIC_SIDE;
  double ProximalLimit = -1.0;
  double TipZoneLength = 10.0;
  int ZoneSet = BOTH;
  vtkMultiProcessController* Controller = nullptr;

private:
  /// The frame settings the user gave (axis, medial direction, side, proximal limit).
  ibc::contact::FrameOverrides FrameSettings() const;

  vtkGruenZoneStats(const vtkGruenZoneStats&) = delete;
  void operator=(const vtkGruenZoneStats&) = delete;
};

#endif
