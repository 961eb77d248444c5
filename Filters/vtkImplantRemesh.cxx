// SPDX-License-Identifier: BSD-3-Clause
#include "vtkImplantRemesh.h"

#include "ibcCollective.h"
#include "ibcNormalProbe.h"
#include "ibcRemesh.h"
#include "ibcSMP.h"
#include "ibcSurfaceArrays.h"

#include <vtkCellArray.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkFloatArray.h>
#include <vtkInformation.h>
#include <vtkInformationVector.h>
#include <vtkMultiProcessController.h>
#include <vtkNew.h>
#include <vtkObjectFactory.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>

#include <algorithm>
#include <cmath>

vtkStandardNewMacro(vtkImplantRemesh);
vtkCxxSetObjectMacro(vtkImplantRemesh, Controller, vtkMultiProcessController);

namespace remesh = ibc::remesh;

vtkImplantRemesh::vtkImplantRemesh()
{
  ibc::useThreadedBackend();
  this->SetController(vtkMultiProcessController::GetGlobalController());
}

vtkImplantRemesh::~vtkImplantRemesh()
{
  this->SetController(nullptr);
}

int vtkImplantRemesh::RequestData(vtkInformation*,
  vtkInformationVector** inputVector,
  vtkInformationVector* outputVector)
{
  vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  const ibc::Collective comm(this->Controller);

  remesh::TriangleMesh mesh;
  ibc::surfaceToArrays(input, mesh.points, mesh.triangles);

  // Under MPI the pieces meet on rank 0: remeshing needs the whole surface's connectivity, and a
  // surface is small next to the volume.
  {
    remesh::TriangleMesh gathered;
    ibc::gatherSurfaceToRoot(
      mesh.points, mesh.triangles, comm, gathered.points, gathered.triangles);
    mesh = std::move(gathered);
  }
  if (comm.rank() != 0)
  {
    return 1; // rank 0 holds the remeshed surface
  }
  if (mesh.triangles.empty())
  {
    vtkWarningMacro("The input has no triangles or polygons: nothing to remesh.");
    return 1;
  }

  remesh::Repair repair;
  const remesh::TriangleMesh clean = remesh::repairSurface(mesh, repair);
  if (!repair.problem.empty())
  {
    vtkErrorMacro("Cannot remesh this surface: " << repair.problem << ".");
    return 0;
  }
  if (repair.mergedPoints + repair.droppedTriangles + repair.flippedTriangles > 0)
  {
    vtkWarningMacro("Repaired the input: merged "
      << repair.mergedPoints << " duplicate points, dropped " << repair.droppedTriangles
      << " degenerate or repeated triangles, reoriented " << repair.flippedTriangles
      << " triangles.");
  }
  double bounds[6];
  input->GetBounds(bounds);
  const double size =
    std::max({ bounds[1] - bounds[0], bounds[3] - bounds[2], bounds[5] - bounds[4] });
  if (size < 1.0)
  {
    vtkWarningMacro("The surface is under 1 unit across: it is probably in metres. Remeshing "
                    "works in the surface's units; scale it by 1000 for millimetres.");
  }
  const double area = remesh::surfaceArea(clean);

  remesh::Options options;
  options.iterations = this->Iterations;
  options.featureAngleDegrees = this->FeatureAngle;
  options.preserveBoundary = this->PreserveBoundary;
  options.targetEdgeLength = this->SizingMode == NUMBER_OF_POINTS
    ? remesh::edgeLengthForPointCount(area, this->TargetNumberOfPoints)
    : this->TargetEdgeLength;
  if (options.targetEdgeLength > 0.25 * size)
  {
    vtkWarningMacro("Target edge length " << options.targetEdgeLength << " is large for a surface "
                                          << size << " across; the result will be coarse.");
  }
  double usedEdgeLength = options.targetEdgeLength;
  options.reachedEdgeLength = &usedEdgeLength;
  if (this->SizingMode == NUMBER_OF_POINTS)
  {
    options.targetPointCount = this->TargetNumberOfPoints; // corrected during the iterations
  }
  remesh::TriangleMesh result =
    remesh::remeshSurface(clean, options, [this](double f) { this->UpdateProgress(0.8 * f); });
  if (this->SizingMode == NUMBER_OF_POINTS)
  {
    // With very few iterations the count may still be off: once more with the length
    // corrected for the count reached.
    const double ratio = static_cast<double>(result.points.size()) / this->TargetNumberOfPoints;
    if (std::abs(ratio - 1.0) > 0.03)
    {
      options.targetEdgeLength = usedEdgeLength * std::sqrt(ratio);
      result = remesh::remeshSurface(clean, options);
    }
  }
  this->UpdateProgress(0.85);

  const ibc::Collective alone(nullptr);
  const std::vector<ibc::Vec3> normals =
    ibc::probe::computeOutwardNormals(result.points, result.triangles, alone);
  vtkNew<vtkPoints> points;
  points->SetDataTypeToDouble();
  points->SetNumberOfPoints(static_cast<vtkIdType>(result.points.size()));
  vtkNew<vtkFloatArray> normalArray;
  normalArray->SetName("Normals");
  normalArray->SetNumberOfComponents(3);
  normalArray->SetNumberOfTuples(static_cast<vtkIdType>(result.points.size()));
  for (std::size_t i = 0; i < result.points.size(); ++i)
  {
    points->SetPoint(
      static_cast<vtkIdType>(i), result.points[i].x, result.points[i].y, result.points[i].z);
    normalArray->SetTuple3(static_cast<vtkIdType>(i), normals[i].x, normals[i].y, normals[i].z);
  }
  vtkNew<vtkCellArray> polys;
  for (const auto& t : result.triangles)
  {
    const vtkIdType ids[3] = { t[0], t[1], t[2] };
    polys->InsertNextCell(3, ids);
  }
  output->SetPoints(points);
  output->SetPolys(polys);
  output->GetPointData()->SetNormals(normalArray);

  const remesh::Quality quality = remesh::measureQuality(result, clean);
  vtkFieldData* fieldData = output->GetFieldData();
  fieldData->AddArray(ibc::fieldScalar("TargetEdgeLength", usedEdgeLength));
  fieldData->AddArray(ibc::fieldScalar("MeanEdgeLength", quality.meanEdgeLength));
  fieldData->AddArray(ibc::fieldScalar("MinimumAngle", quality.minimumAngle));
  fieldData->AddArray(ibc::fieldScalar("MeanMinimumAngle", quality.meanMinimumAngle));
  fieldData->AddArray(ibc::fieldScalar("ShareAbove30Degrees", quality.shareAbove30));
  fieldData->AddArray(ibc::fieldScalar("EdgeLengthCV", quality.edgeLengthCV));
  fieldData->AddArray(ibc::fieldScalar("HausdorffDistance", quality.hausdorff));
  fieldData->AddArray(ibc::fieldScalar("AreaChangePercent", quality.areaChangePercent));
  fieldData->AddArray(
    ibc::fieldScalar("NonManifoldEdges", static_cast<double>(quality.nonManifoldEdges)));
  fieldData->AddArray(
    ibc::fieldScalar("BoundaryEdges", static_cast<double>(quality.boundaryEdges)));
  this->UpdateProgress(1.0);
  return 1;
}

void vtkImplantRemesh::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "SizingMode: " << this->SizingMode << "\n";
  os << indent << "TargetEdgeLength: " << this->TargetEdgeLength << "\n";
  os << indent << "TargetNumberOfPoints: " << this->TargetNumberOfPoints << "\n";
  os << indent << "Iterations: " << this->Iterations << "\n";
  os << indent << "FeatureAngle: " << this->FeatureAngle << "\n";
}
