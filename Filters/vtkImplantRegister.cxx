// SPDX-License-Identifier: BSD-3-Clause
#include "vtkImplantRegister.h"

#include "ibcCollective.h"
#include "ibcPipeline.h"
#include "ibcRegister.h"
#include "ibcSMP.h"
#include "ibcSurfaceArrays.h"
#include "vtkImplantExtract.h"

#include <vtkDataArray.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkImageData.h>
#include <vtkInformation.h>
#include <vtkInformationVector.h>
#include <vtkMultiProcessController.h>
#include <vtkNew.h>
#include <vtkObjectFactory.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkStreamingDemandDrivenPipeline.h>
#include <vtkStringArray.h>
#include <vtkTable.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>

vtkStandardNewMacro(vtkImplantRegister);
vtkCxxSetObjectMacro(vtkImplantRegister, Controller, vtkMultiProcessController);

namespace
{
namespace reg = ibc::registration;

/// The transform in LPS, given the data's coordinate system: with F = diag(-1, -1, 1) (its own
/// inverse), a transform T in RAS is F T F in LPS.
reg::Transform toLPS(const reg::Transform& transform, bool dataInRAS)
{
  if (!dataInRAS)
  {
    return transform;
  }
  reg::Transform lps = transform;
  const double flip[3] = { -1.0, -1.0, 1.0 };
  for (int row = 0; row < 3; ++row)
  {
    for (int column = 0; column < 3; ++column)
    {
      lps.rotation[3 * row + column] =
        flip[row] * transform.rotation[3 * row + column] * flip[column];
    }
  }
  lps.translation = { -transform.translation.x, -transform.translation.y, transform.translation.z };
  return lps;
}

/// An ITK text transform file. ITK (and 3D Slicer, which reads it as the transform "from parent")
/// stores the resampling direction, fixed to moving: the inverse of the CAD-to-CT transform.
bool writeITKTransform(const std::string& fileName, const reg::Transform& cadToTarget)
{
  const reg::Transform stored = cadToTarget.inverse();
  const std::array<double, 16> m = stored.matrix();
  std::ofstream file(fileName);
  file << std::setprecision(17);
  file << "#Insight Transform File V1.0\n#Transform 0\n";
  // An affine transform holds a rotation and, with Allow Scaling, the scale too.
  file << "Transform: AffineTransform_double_3_3\n";
  file << "Parameters:";
  for (int row = 0; row < 3; ++row)
  {
    for (int column = 0; column < 3; ++column)
    {
      file << ' ' << m[4 * row + column];
    }
  }
  file << ' ' << m[3] << ' ' << m[7] << ' ' << m[11] << "\n";
  file << "FixedParameters: 0 0 0\n";
  return static_cast<bool>(file);
}

/// Both surfaces on rank 0 (a CT target: its metal surface, extracted from the pieces).
void gatherSurfaces(vtkPolyData* moving,
  vtkDataObject* target,
  vtkInformation* targetInfo,
  vtkMultiProcessController* controller,
  const ibc::Collective& comm,
  ibc::remesh::TriangleMesh& movingMesh,
  ibc::remesh::TriangleMesh& targetMesh,
  bool& targetIsCT)
{
  ibc::remesh::TriangleMesh movingPiece;
  if (moving)
  {
    ibc::surfaceToArrays(moving, movingPiece.points, movingPiece.triangles);
  }
  ibc::gatherSurfaceToRoot(
    movingPiece.points, movingPiece.triangles, comm, movingMesh.points, movingMesh.triangles);
  targetIsCT = false;
  if (vtkImageData* volume = vtkImageData::SafeDownCast(target))
  {
    targetIsCT = true;
    vtkDataArray* scalars = volume->GetPointData()->GetArray("HU");
    if (!scalars)
    {
      scalars = volume->GetPointData()->GetScalars();
    }
    vtkNew<vtkImplantExtract> extractor;
    extractor->SetController(controller);
    vtkNew<vtkPolyData> metal;
    extractor->ExtractSurface(
      volume, targetInfo, volume->GetNumberOfPoints() > 0 ? scalars : nullptr, metal);
    if (comm.rank() == 0)
    {
      ibc::surfaceToArrays(metal, targetMesh.points, targetMesh.triangles);
    }
    return;
  }
  ibc::remesh::TriangleMesh targetPiece;
  if (vtkPolyData* surface = vtkPolyData::SafeDownCast(target))
  {
    ibc::surfaceToArrays(surface, targetPiece.points, targetPiece.triangles);
  }
  ibc::gatherSurfaceToRoot(
    targetPiece.points, targetPiece.triangles, comm, targetMesh.points, targetMesh.triangles);
}

/// `moving` placed by `transform` into `output`; vectors that are directions (the normals, and
/// arrays named ...Normal...) turn with the surface.
void moveSurface(vtkPolyData* moving, const reg::Transform& transform, vtkPolyData* output)
{
  output->ShallowCopy(moving);
  vtkNew<vtkPoints> points;
  points->SetDataTypeToDouble();
  points->SetNumberOfPoints(moving->GetNumberOfPoints());
  for (vtkIdType id = 0; id < moving->GetNumberOfPoints(); ++id)
  {
    double p[3];
    moving->GetPoint(id, p);
    const ibc::Vec3 q = transform.apply({ p[0], p[1], p[2] });
    points->SetPoint(id, q.x, q.y, q.z);
  }
  output->SetPoints(points);
  vtkPointData* pointData = output->GetPointData();
  for (int a = 0; a < pointData->GetNumberOfArrays(); ++a)
  {
    vtkDataArray* array = pointData->GetArray(a);
    if (!array || array->GetNumberOfComponents() != 3 ||
      (array != pointData->GetNormals() && !array->GetName()))
    {
      continue;
    }
    const std::string name = array->GetName() ? array->GetName() : "";
    if (array != pointData->GetNormals() && name.find("Normal") == std::string::npos)
    {
      continue;
    }
    vtkSmartPointer<vtkDataArray> turned;
    turned.TakeReference(array->NewInstance());
    turned->DeepCopy(array);
    for (vtkIdType id = 0; id < turned->GetNumberOfTuples(); ++id)
    {
      double* n = turned->GetTuple3(id);
      const ibc::Vec3 r = ibc::apply(transform.rotation, { n[0], n[1], n[2] });
      turned->SetTuple3(id, r.x, r.y, r.z);
    }
    if (array == pointData->GetNormals())
    {
      pointData->SetNormals(turned);
    }
    else
    {
      pointData->AddArray(turned);
    }
  }
}
} // namespace

vtkImplantRegister::vtkImplantRegister()
{
  this->SetNumberOfInputPorts(2);
  this->SetNumberOfOutputPorts(2);
  this->SetController(vtkMultiProcessController::GetGlobalController());
}

vtkImplantRegister::~vtkImplantRegister()
{
  this->SetController(nullptr);
}

void vtkImplantRegister::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Overlap: " << this->Overlap << "\n";
  os << indent << "MaximumIterations: " << this->MaximumIterations << "\n";
  os << indent << "NumberOfSamples: " << this->NumberOfSamples << "\n";
  os << indent << "AutomaticInitialAlignment: " << this->AutomaticInitialAlignment << "\n";
  os << indent << "AllowScaling: " << this->AllowScaling << "\n";
  os << indent << "TransformFileName: " << this->TransformFileName << "\n";
  os << indent << "DataCoordinates: " << (this->DataCoordinates == RAS ? "RAS" : "LPS") << "\n";
}

int vtkImplantRegister::FillInputPortInformation(int port, vtkInformation* info)
{
  if (port == 0)
  {
    info->Set(vtkAlgorithm::INPUT_REQUIRED_DATA_TYPE(), "vtkPolyData");
  }
  else
  {
    info->Remove(vtkAlgorithm::INPUT_REQUIRED_DATA_TYPE());
    info->Append(vtkAlgorithm::INPUT_REQUIRED_DATA_TYPE(), "vtkPolyData");
    info->Append(vtkAlgorithm::INPUT_REQUIRED_DATA_TYPE(), "vtkImageData");
  }
  return 1;
}

int vtkImplantRegister::FillOutputPortInformation(int port, vtkInformation* info)
{
  info->Set(vtkDataObject::DATA_TYPE_NAME(), port == 0 ? "vtkPolyData" : "vtkTable");
  return 1;
}

int vtkImplantRegister::RequestUpdateExtent(vtkInformation*,
  vtkInformationVector** inputVector,
  vtkInformationVector* outputVector)
{
  vtkInformation* outInfo = outputVector->GetInformationObject(0);
  const int piece = outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER());
  const int pieces = outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_PIECES());
  vtkInformation* movingInfo = inputVector[0]->GetInformationObject(0);
  movingInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER(), piece);
  movingInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_PIECES(), pieces);
  vtkInformation* targetInfo = inputVector[1]->GetInformationObject(0);
  if (targetInfo->Has(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT()))
  {
    ibc::requestVolumePiece(targetInfo, piece, pieces, 0); // a CT: this rank's piece
  }
  else
  {
    targetInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER(), piece);
    targetInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_PIECES(), pieces);
  }
  return 1;
}

int vtkImplantRegister::RequestData(vtkInformation*,
  vtkInformationVector** inputVector,
  vtkInformationVector* outputVector)
{
  ibc::useThreadedBackend();
  vtkPolyData* moving = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  const ibc::Collective comm(this->Controller);

  // --- Both surfaces on rank 0.
  ibc::remesh::TriangleMesh movingMesh;
  ibc::remesh::TriangleMesh targetMesh;
  bool targetIsCT = false;
  gatherSurfaces(moving,
    vtkDataObject::GetData(inputVector[1], 0),
    inputVector[1]->GetInformationObject(0),
    this->Controller,
    comm,
    movingMesh,
    targetMesh,
    targetIsCT);
  this->UpdateProgress(0.2);

  // --- Registration on rank 0; its result to every rank.
  RegistrationSummary summary;
  if (comm.rank() == 0)
  {
    summary = this->RegisterOnRoot(movingMesh, targetMesh, targetIsCT);
  }
  comm.sum(summary.shared, 20);
  if (summary.shared[0] == 0.0)
  {
    output->ShallowCopy(moving);
    return 1;
  }

  // --- Every rank moves its own piece of the CAD surface.
  moveSurface(moving, reg::transformFromMatrix(summary.shared + 1), output);
  vtkFieldData* field = output->GetFieldData();
  vtkNew<vtkDoubleArray> matrixArray;
  matrixArray->SetName("RegistrationMatrix");
  matrixArray->SetNumberOfComponents(16);
  matrixArray->InsertNextTuple(summary.shared + 1);
  field->AddArray(matrixArray);
  field->AddArray(ibc::fieldScalar("RMSDistance", summary.shared[17]));
  field->AddArray(ibc::fieldScalar("RMSDistanceAll", summary.shared[18]));
  field->AddArray(ibc::fieldScalar("InlierFraction", summary.shared[19]));
  if (comm.rank() == 0)
  {
    field->AddArray(ibc::fieldScalar("Iterations", summary.iterations));
    field->AddArray(ibc::fieldString("InitialAlignment", summary.alignment));
    vtkTable* table = vtkTable::GetData(outputVector, 1);
    for (int column = 0; column < 4; ++column)
    {
      vtkNew<vtkDoubleArray> values;
      values->SetName(("Column " + std::to_string(column)).c_str());
      for (int row = 0; row < 4; ++row)
      {
        values->InsertNextValue(summary.shared[1 + 4 * row + column]);
      }
      table->AddColumn(values);
    }
  }
  this->UpdateProgress(1.0);
  return 1;
}

vtkImplantRegister::RegistrationSummary vtkImplantRegister::RegisterOnRoot(
  ibc::remesh::TriangleMesh& movingMesh,
  ibc::remesh::TriangleMesh& targetMesh,
  bool targetIsCT)
{
  RegistrationSummary summary;
  std::string problem = reg::inputProblem(movingMesh, targetMesh, targetIsCT, this->AllowScaling);
  if (problem.empty())
  {
    reg::putInCanonicalOrder(movingMesh);
    reg::putInCanonicalOrder(targetMesh);
    reg::Options options;
    options.overlap = this->Overlap;
    options.maximumIterations = this->MaximumIterations;
    options.samples = static_cast<std::size_t>(this->NumberOfSamples);
    options.similarity = this->AllowScaling;
    options.automaticInitialAlignment = this->AutomaticInitialAlignment;
    const reg::Result result = reg::registerSurfaces(movingMesh,
      targetMesh,
      options,
      [this](double fraction) { this->UpdateProgress(0.2 + 0.7 * fraction); });
    problem = result.ok ? std::string() : result.problem;
    if (result.ok)
    {
      summary.shared[0] = 1.0;
      const std::array<double, 16> matrix = result.transform.matrix();
      std::copy(matrix.begin(), matrix.end(), summary.shared + 1);
      summary.shared[17] = result.rms;
      summary.shared[18] = result.rmsAll;
      summary.shared[19] = result.inlierFraction;
      summary.iterations = result.iterations;
      summary.alignment = result.initialAlignment;
      this->ReportResult(result);
    }
  }
  if (!problem.empty())
  {
    vtkErrorMacro("Implant Register: " << problem << ".");
  }
  return summary;
}

void vtkImplantRegister::ReportResult(const ibc::registration::Result& result)
{
  if (!result.settled)
  {
    vtkWarningMacro("Implant Register stopped at Maximum Iterations ("
      << this->MaximumIterations << ") before the pose settled (RMS distance " << result.rms
      << " mm): raise Maximum Iterations, or check that the CAD surface is "
      << "the implant the target shows.");
  }
  if (!this->TransformFileName.empty() &&
    !writeITKTransform(
      this->TransformFileName, toLPS(result.transform, this->DataCoordinates == RAS)))
  {
    vtkErrorMacro(
      "Implant Register: cannot write the transform file '" << this->TransformFileName << "'.");
  }
  if (reg::isHalfTurnAboutZ(result.transform.rotation))
  {
    // The registration undoes the mirror, but the user should know.
    vtkWarningMacro("Implant Register: the CAD surface had to turn half a turn about z "
                    "(x and y negated): it is probably in RAS coordinates (3D Slicer) while "
                    "the CT is in LPS, or the reverse. The result is right; to keep the "
                    "surfaces consistent, read the CT with Output Coordinates = RAS, or "
                    "export the STL in LPS.");
  }
  if (result.inlierFraction < 0.6)
  {
    vtkWarningMacro("Implant Register: only "
      << static_cast<int>(100.0 * result.inlierFraction + 0.5)
      << " % of the CAD surface matched the target (the rest was trimmed as outside it). "
         "Check the result; a target that shows more of the implant helps.");
  }
}
