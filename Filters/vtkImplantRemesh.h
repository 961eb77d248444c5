// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkImplantRemesh
 * @brief   isotropic remeshing of CAD/STL implant surfaces
 *
 * Cleans what STL files carry (duplicate points, degenerate and repeated triangles,
 * inconsistent orientation; non-manifold surfaces are refused with a message), then remeshes
 * towards a target edge length, a number of points, or (Adaptive) a length that follows the
 * input's curvature so that the result stays within MaximumDeviation of it, by the standard
 * explicit method:
 * split long edges, collapse short ones, flip towards valence 6, relax tangentially and
 * project back onto the input. Edges sharper than FeatureAngle are kept, corners fixed.
 *
 * Output: a consistently outward triangle mesh with point Normals, closed when the input is,
 * and its quality in field data (MinimumAngle, MeanMinimumAngle, ShareAbove30Degrees,
 * EdgeLengthCV, HausdorffDistance and both its directions, AreaChangePercent, NonManifoldEdges,
 * BoundaryEdges; Adaptive adds SmallestCurvatureEdgeLength).
 * Under MPI the pieces are gathered and remeshed on rank 0, which holds the result.
 * The algorithm is in ibcRemesh.h.
 */
#ifndef vtkImplantRemesh_h
#define vtkImplantRemesh_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "vtkPolyDataAlgorithm.h"

#include <string> // for std::string

class vtkMultiProcessController;
namespace ibc
{
namespace remesh
{
struct TriangleMesh;
struct AdaptiveReport;
}
}

class IMPLANTBONECONTACTFILTERS_EXPORT vtkImplantRemesh : public vtkPolyDataAlgorithm
{
public:
  static vtkImplantRemesh* New();
  vtkTypeMacro(vtkImplantRemesh, vtkPolyDataAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  enum SizingModeType
  {
    EDGE_LENGTH = 0,
    NUMBER_OF_POINTS = 1,
    ADAPTIVE = 2
  };

  vtkSetClampMacro(SizingMode, int, EDGE_LENGTH, ADAPTIVE);
  vtkGetMacro(SizingMode, int);
  vtkSetClampMacro(TargetEdgeLength, double, 1e-4, 1e4);
  vtkGetMacro(TargetEdgeLength, double);
  vtkSetClampMacro(TargetNumberOfPoints, vtkIdType, 4, VTK_ID_MAX);
  vtkGetMacro(TargetNumberOfPoints, vtkIdType);
  /// Adaptive: the largest distance (mm) allowed between the result and the input.
  vtkSetMacro(MaximumDeviation, double);
  vtkGetMacro(MaximumDeviation, double);
  /// Adaptive: the range of edge lengths (mm).
  vtkSetMacro(MinimumEdgeLength, double);
  vtkGetMacro(MinimumEdgeLength, double);
  vtkSetMacro(MaximumEdgeLength, double);
  vtkGetMacro(MaximumEdgeLength, double);
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
  /// What is wrong with the sizing settings, or an empty string.
  std::string SettingsProblem() const;
  /// Remeshes the repaired input as the properties ask; usedEdgeLength receives the target
  /// (as corrected for a point count, or the adaptive field's equivalent).
  ibc::remesh::TriangleMesh Remesh(const ibc::remesh::TriangleMesh& clean,
    double size,
    double& usedEdgeLength,
    ibc::remesh::AdaptiveReport& adaptive);

  int SizingMode = EDGE_LENGTH;
  double TargetEdgeLength = 1.0;
  vtkIdType TargetNumberOfPoints = 20000;
  double MaximumDeviation = 0.05;
  double MinimumEdgeLength = 0.1;
  double MaximumEdgeLength = 3.0;
  int Iterations = 10;
  double FeatureAngle = 45.0;
  bool PreserveBoundary = true;
  vtkMultiProcessController* Controller = nullptr;

private:
  vtkImplantRemesh(const vtkImplantRemesh&) = delete;
  void operator=(const vtkImplantRemesh&) = delete;
};

#endif
