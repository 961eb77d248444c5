// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkImplantRemesh
 * @brief   isotropic remeshing of CAD/STL implant surfaces
 *
 * Cleans what STL files carry (duplicate points, degenerate and repeated triangles,
 * inconsistent orientation; non-manifold surfaces are refused with a message), then remeshes
 * towards a target edge length (or a number of points) by the standard explicit method:
 * split long edges, collapse short ones, flip towards valence 6, relax tangentially and
 * project back onto the input. Edges sharper than FeatureAngle are kept, corners fixed.
 *
 * Output: a consistently outward triangle mesh with point Normals, closed when the input is,
 * and its quality in field data (MinimumAngle, MeanMinimumAngle, ShareAbove30Degrees,
 * EdgeLengthCV, HausdorffDistance, AreaChangePercent, NonManifoldEdges, BoundaryEdges).
 * Under MPI the pieces are gathered and remeshed on rank 0, which holds the result.
 * The algorithm is in ibcRemesh.h.
 */
#ifndef vtkImplantRemesh_h
#define vtkImplantRemesh_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "vtkPolyDataAlgorithm.h"

class vtkMultiProcessController;

class IMPLANTBONECONTACTFILTERS_EXPORT vtkImplantRemesh : public vtkPolyDataAlgorithm
{
public:
  static vtkImplantRemesh* New();
  vtkTypeMacro(vtkImplantRemesh, vtkPolyDataAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  enum SizingModeType
  {
    EDGE_LENGTH = 0,
    NUMBER_OF_POINTS = 1
  };

  vtkSetClampMacro(SizingMode, int, EDGE_LENGTH, NUMBER_OF_POINTS);
  vtkGetMacro(SizingMode, int);
  vtkSetClampMacro(TargetEdgeLength, double, 1e-4, 1e4);
  vtkGetMacro(TargetEdgeLength, double);
  vtkSetClampMacro(TargetNumberOfPoints, vtkIdType, 4, VTK_ID_MAX);
  vtkGetMacro(TargetNumberOfPoints, vtkIdType);
  vtkSetClampMacro(Iterations, int, 1, 100);
  vtkGetMacro(Iterations, int);
  vtkSetClampMacro(FeatureAngle, double, 0.0, 180.0);
  vtkGetMacro(FeatureAngle, double);
  vtkSetMacro(PreserveBoundary, bool);
  vtkGetMacro(PreserveBoundary, bool);
  vtkBooleanMacro(PreserveBoundary, bool);

  void SetController(vtkMultiProcessController* controller);
  vtkGetObjectMacro(Controller, vtkMultiProcessController);

protected:
  vtkImplantRemesh();
  ~vtkImplantRemesh() override;
  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;

  int SizingMode = EDGE_LENGTH;
  double TargetEdgeLength = 1.0;
  vtkIdType TargetNumberOfPoints = 20000;
  int Iterations = 10;
  double FeatureAngle = 45.0;
  bool PreserveBoundary = true;
  vtkMultiProcessController* Controller = nullptr;

private:
  vtkImplantRemesh(const vtkImplantRemesh&) = delete;
  void operator=(const vtkImplantRemesh&) = delete;
};

#endif
