// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkCorticalClassify
 * @brief   classes every vertex as cortical bone, cancellous bone or soft tissue from its HU
 *
 * Input: a surface with a sampled value array (e.g. HU from vtkNormalOffsetProbe) and, when
 * present, vtkValidPointMask. Output: the surface with point array TissueClass (uint8: 0 no
 * valid sample, 1 soft tissue, 2 cancellous, 3 cortical) and, in field data, the thresholds
 * used (CancellousThreshold, CorticalThreshold) and where they came from (ThresholdSource).
 *
 * Thresholds come from a Preset, from CancellousThreshold / CorticalThreshold (Custom), or with
 * AutomaticThresholds from the sampled values themselves: the two thresholds that split their
 * area-weighted histogram in three classes with the largest between-class variance (Otsu).
 * SmoothingRadius > 0 replaces each class by the area-weighted majority within that radius.
 * Under MPI the histogram and the neighbourhoods span all ranks.
 */
#ifndef vtkCorticalClassify_h
#define vtkCorticalClassify_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "vtkPolyDataAlgorithm.h"

class vtkMultiProcessController;

class IMPLANTBONECONTACTFILTERS_EXPORT vtkCorticalClassify : public vtkPolyDataAlgorithm
{
public:
  static vtkCorticalClassify* New();
  vtkTypeMacro(vtkCorticalClassify, vtkPolyDataAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  enum PresetType
  {
    CUSTOM = 0,
    PEDICLE_SCREW_PLANNER = 1,
    MIMICS_ADULT = 2,
    CT_MIDPOINTS = 3
  };

  vtkSetClampMacro(Preset, int, CUSTOM, CT_MIDPOINTS);
  vtkGetMacro(Preset, int);
  vtkSetMacro(CancellousThreshold, double);
  vtkGetMacro(CancellousThreshold, double);
  vtkSetMacro(CorticalThreshold, double);
  vtkGetMacro(CorticalThreshold, double);
  vtkSetMacro(AutomaticThresholds, bool);
  vtkGetMacro(AutomaticThresholds, bool);
  vtkBooleanMacro(AutomaticThresholds, bool);
  vtkSetClampMacro(SmoothingRadius, double, 0.0, 100.0);
  vtkGetMacro(SmoothingRadius, double);

  void SetController(vtkMultiProcessController* controller);
  vtkGetObjectMacro(Controller, vtkMultiProcessController);

protected:
  vtkCorticalClassify();
  ~vtkCorticalClassify() override;
  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;

  int Preset = CT_MIDPOINTS;
  double CancellousThreshold = 150.0;
  double CorticalThreshold = 700.0;
  bool AutomaticThresholds = false;
  double SmoothingRadius = 0.0;
  vtkMultiProcessController* Controller = nullptr;

private:
  vtkCorticalClassify(const vtkCorticalClassify&) = delete;
  void operator=(const vtkCorticalClassify&) = delete;
};

#endif
