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

namespace
{
/// The remeshed surface as polydata with point Normals.
void writeSurface(const remesh::TriangleMesh& mesh, vtkPolyData* output)
{
  const ibc::Collective alone(nullptr);
  const std::vector<ibc::Vec3> normals =
    ibc::probe::computeOutwardNormals(mesh.points, mesh.triangles, alone);
  vtkNew<vtkPoints> points;
  points->SetDataTypeToDouble();
  points->SetNumberOfPoints(static_cast<vtkIdType>(mesh.points.size()));
  vtkNew<vtkFloatArray> normalArray;
  normalArray->SetName("Normals");
  normalArray->SetNumberOfComponents(3);
  normalArray->SetNumberOfTuples(static_cast<vtkIdType>(mesh.points.size()));
  for (std::size_t i = 0; i < mesh.points.size(); ++i)
  {
    points->SetPoint(
      static_cast<vtkIdType>(i), mesh.points[i].x, mesh.points[i].y, mesh.points[i].z);
    normalArray->SetTuple3(static_cast<vtkIdType>(i), normals[i].x, normals[i].y, normals[i].z);
  }
  vtkNew<vtkCellArray> polys;
  for (const auto& t : mesh.triangles)
  {
    const vtkIdType ids[3] = { t[0], t[1], t[2] };
    polys->InsertNextCell(3, ids);
  }
  output->SetPoints(points);
  output->SetPolys(polys);
  output->GetPointData()->SetNormals(normalArray);
}

/// The quality of the result against the (repaired) input, as field data.
void addQualityFieldData(const remesh::Quality& quality, double edgeLength, vtkFieldData* fields)
{
  fields->AddArray(ibc::fieldScalar("TargetEdgeLength", edgeLength));
  fields->AddArray(ibc::fieldScalar("MeanEdgeLength", quality.meanEdgeLength));
  fields->AddArray(ibc::fieldScalar("MinimumAngle", quality.minimumAngle));
  fields->AddArray(ibc::fieldScalar("MeanMinimumAngle", quality.meanMinimumAngle));
  fields->AddArray(ibc::fieldScalar("ShareAbove30Degrees", quality.shareAbove30));
  fields->AddArray(ibc::fieldScalar("EdgeLengthCV", quality.edgeLengthCV));
  fields->AddArray(ibc::fieldScalar("HausdorffDistance", quality.hausdorff));
  fields->AddArray(ibc::fieldScalar("DeviationOutputToInput", quality.outputToInput));
  fields->AddArray(ibc::fieldScalar("DeviationInputToOutput", quality.inputToOutput));
  fields->AddArray(ibc::fieldScalar("AreaChangePercent", quality.areaChangePercent));
  fields->AddArray(
    ibc::fieldScalar("NonManifoldEdges", static_cast<double>(quality.nonManifoldEdges)));
  fields->AddArray(ibc::fieldScalar("BoundaryEdges", static_cast<double>(quality.boundaryEdges)));
}

/// Largest extent of the surface's bounding box.
double largestExtent(const remesh::TriangleMesh& mesh)
{
  if (mesh.points.empty())
  {
    return 0.0;
  }
  ibc::Vec3 low = mesh.points.front();
  ibc::Vec3 high = low;
  for (const ibc::Vec3& p : mesh.points)
  {
    low = { std::min(low.x, p.x), std::min(low.y, p.y), std::min(low.z, p.z) };
    high = { std::max(high.x, p.x), std::max(high.y, p.y), std::max(high.z, p.z) };
  }
  return std::max({ high.x - low.x, high.y - low.y, high.z - low.z });
}
} // namespace

std::string vtkImplantRemesh::SettingsProblem() const
{
  if (this->SizingMode != ADAPTIVE)
  {
    return {};
  }
  if (!(this->MaximumDeviation > 0.0))
  {
    return "Maximum Deviation must be above 0 mm";
  }
  if (!(this->MinimumEdgeLength > 0.0) || !(this->MaximumEdgeLength >= this->MinimumEdgeLength))
  {
    return "Minimum Edge Length must be above 0 and at most Maximum Edge Length (they are " +
      std::to_string(this->MinimumEdgeLength) + " and " + std::to_string(this->MaximumEdgeLength) +
      " mm)";
  }
  return {};
}

int vtkImplantRemesh::RequestData(vtkInformation*,
  vtkInformationVector** inputVector,
  vtkInformationVector* outputVector)
{
  vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  const ibc::Collective comm(this->Controller);

  // Under MPI the pieces meet on rank 0: remeshing needs the whole surface's connectivity, and a
  // surface is small next to the volume.
  remesh::TriangleMesh mesh;
  {
    remesh::TriangleMesh piece;
    ibc::surfaceToArrays(input, piece.points, piece.triangles);
    ibc::gatherSurfaceToRoot(piece.points, piece.triangles, comm, mesh.points, mesh.triangles);
  }
  if (comm.rank() != 0)
  {
    return 1; // rank 0 holds the remeshed surface
  }
  const std::string settingsProblem = this->SettingsProblem();
  if (!settingsProblem.empty())
  {
    vtkErrorMacro(<< settingsProblem << ".");
    return 0;
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
  const double size = largestExtent(clean);
  const double length = this->SizingMode == ADAPTIVE ? this->MinimumEdgeLength
    : this->SizingMode == EDGE_LENGTH                ? this->TargetEdgeLength
                                                     : 0.0;
  if (size < 1.0 && length > 0.25 * size)
  {
    vtkErrorMacro("The surface is " << size << " units across: it is probably in metres, and "
                                    << "edges of " << length << " would leave a few triangles. "
                                    << "Scale it by 1000 for millimetres (Transform).");
    return 0;
  }
  if (size < 1.0)
  {
    vtkWarningMacro("The surface is under 1 unit across: it is probably in metres. Remeshing "
                    "works in the surface's units; scale it by 1000 for millimetres.");
  }

  double usedEdgeLength = 0.0;
  remesh::AdaptiveReport adaptive;
  const remesh::TriangleMesh result = this->Remesh(clean, size, usedEdgeLength, adaptive);
  this->UpdateProgress(0.85);

  writeSurface(result, output);
  addQualityFieldData(
    remesh::measureQuality(result, clean), usedEdgeLength, output->GetFieldData());
  if (this->SizingMode == ADAPTIVE)
  {
    output->GetFieldData()->AddArray(
      ibc::fieldScalar("SmallestCurvatureEdgeLength", adaptive.smallestCurvatureLength));
  }
  this->UpdateProgress(1.0);
  return 1;
}

remesh::TriangleMesh vtkImplantRemesh::Remesh(const remesh::TriangleMesh& clean,
  double size,
  double& usedEdgeLength,
  remesh::AdaptiveReport& adaptive)
{
  remesh::Options options;
  options.iterations = this->Iterations;
  options.featureAngleDegrees = this->FeatureAngle;
  options.preserveBoundary = this->PreserveBoundary;
  options.targetEdgeLength = this->SizingMode == NUMBER_OF_POINTS
    ? remesh::edgeLengthForPointCount(remesh::surfaceArea(clean), this->TargetNumberOfPoints)
    : this->TargetEdgeLength;
  if (this->SizingMode == ADAPTIVE)
  {
    options.adaptive = true;
    options.sizing.maximumDeviation = this->MaximumDeviation;
    options.sizing.minimumEdgeLength = this->MinimumEdgeLength;
    options.sizing.maximumEdgeLength = this->MaximumEdgeLength;
    options.adaptiveReport = &adaptive;
  }
  else if (options.targetEdgeLength > 0.25 * size)
  {
    vtkWarningMacro("Target edge length " << options.targetEdgeLength << " is large for a surface "
                                          << size << " across; the result will be coarse.");
  }
  usedEdgeLength = options.targetEdgeLength;
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
  if (this->SizingMode == ADAPTIVE && adaptive.verticesAtMinimum > 0)
  {
    vtkWarningMacro("At " << adaptive.verticesAtMinimum << " input vertices the curvature asks for "
                          << "edges shorter than Minimum Edge Length (down to "
                          << adaptive.smallestCurvatureLength << " mm): the result may stray "
                          << "more than Maximum Deviation from the input there.");
  }
  return result;
}

void vtkImplantRemesh::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "SizingMode: " << this->SizingMode << "\n";
  os << indent << "TargetEdgeLength: " << this->TargetEdgeLength << "\n";
  os << indent << "TargetNumberOfPoints: " << this->TargetNumberOfPoints << "\n";
  os << indent << "MaximumDeviation: " << this->MaximumDeviation << "\n";
  os << indent << "MinimumEdgeLength: " << this->MinimumEdgeLength << "\n";
  os << indent << "MaximumEdgeLength: " << this->MaximumEdgeLength << "\n";
  os << indent << "Iterations: " << this->Iterations << "\n";
  os << indent << "FeatureAngle: " << this->FeatureAngle << "\n";
}
