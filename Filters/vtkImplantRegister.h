// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkImplantRegister
 * @brief   rigid registration of the CAD implant onto the implant seen in a CT
 *
 * Input port 0: the moving CAD surface. Input port 1 (Target): the fixed surface (e.g. Implant
 * Extract's output), or the CT itself, whose metal surface is then extracted with Implant
 * Extract's defaults.
 *
 * Output port 0: the CAD surface moved onto the target (its arrays kept, Normals rotated), with
 * field data RegistrationMatrix (row-major 4x4), RMSDistance (inlier samples), RMSDistanceAll,
 * InlierFraction, Iterations, InitialAlignment. Output port 1: the 4x4 matrix as a table.
 * Optionally the transform is written as an ITK transform file 3D Slicer loads (LPS, the
 * resampling convention, so that applying it to the model in Slicer moves the model onto the CT).
 *
 * The algorithm is in ibcRegister.h. Under MPI the surfaces (or the CT's metal box) meet on
 * rank 0, which registers; the transform is sent to every rank, which moves its own piece.
 */
#ifndef vtkImplantRegister_h
#define vtkImplantRegister_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcRegister.h"                     // for Result, TriangleMesh
#include "vtkPolyDataAlgorithm.h"

#include <string> // for std::string

class vtkMultiProcessController;

class IMPLANTBONECONTACTFILTERS_EXPORT vtkImplantRegister : public vtkPolyDataAlgorithm
{
public:
  static vtkImplantRegister* New();
  vtkTypeMacro(vtkImplantRegister, vtkPolyDataAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  enum CoordinateSystem
  {
    LPS = 0,
    RAS = 1
  };

  /// The fixed surface or CT (input port 1).
  void SetTargetConnection(vtkAlgorithmOutput* output) { this->SetInputConnection(1, output); }

  ///@{
  /// Share of the sample pairs kept in each iteration (trimmed ICP), in [0.3, 1]; 0 (default)
  /// chooses it in each iteration from the distances.
  vtkSetClampMacro(Overlap, double, 0.0, 1.0);
  vtkGetMacro(Overlap, double);
  ///@}

  ///@{
  vtkSetClampMacro(MaximumIterations, int, 1, 1000);
  vtkGetMacro(MaximumIterations, int);
  vtkSetClampMacro(NumberOfSamples, int, 100, 1000000);
  vtkGetMacro(NumberOfSamples, int);
  ///@}

  ///@{
  /// Try the principal-axes alignments (and their 180-degree turns) besides the given pose.
  vtkSetMacro(AutomaticInitialAlignment, bool);
  vtkGetMacro(AutomaticInitialAlignment, bool);
  vtkBooleanMacro(AutomaticInitialAlignment, bool);
  ///@}

  ///@{
  /// Also estimate a uniform scale (similarity transform). Off by default: an implant is rigid.
  vtkSetMacro(AllowScaling, bool);
  vtkGetMacro(AllowScaling, bool);
  vtkBooleanMacro(AllowScaling, bool);
  ///@}

  ///@{
  /// Where to write the transform as an ITK transform file (.tfm/.txt); empty: not written.
  vtkSetStdStringFromCharMacro(TransformFileName);
  vtkGetCharFromStdStringMacro(TransformFileName);
  /// The coordinates of the data (LPS default, or RAS), so the file is written in LPS.
  vtkSetClampMacro(DataCoordinates, int, LPS, RAS);
  vtkGetMacro(DataCoordinates, int);
  ///@}

  ///@{
  void SetController(vtkMultiProcessController* controller);
  vtkGetObjectMacro(Controller, vtkMultiProcessController);
  ///@}

protected:
  vtkImplantRegister();
  ~vtkImplantRegister() override;

  int FillInputPortInformation(int port, vtkInformation* info) override;
  int FillOutputPortInformation(int port, vtkInformation* info) override;
  int RequestUpdateExtent(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;

  double Overlap = 0.0;
  int MaximumIterations = 100;
  int NumberOfSamples = 5000;
  bool AutomaticInitialAlignment = true;
  bool AllowScaling = false;
  std::string TransformFileName;
  int DataCoordinates = LPS;
  vtkMultiProcessController* Controller = nullptr;

private:
  /// What rank 0 tells the others: ok, the matrix (16), RMS, RMS of all samples, inlier fraction
  /// (zeros elsewhere, so that one sum shares it); and what only rank 0 reports.
  struct RegistrationSummary
  {
    double shared[20] = {};
    double iterations = 0.0;
    std::string alignment;
  };
  /// Checks the surfaces, registers them (rank 0 only) and reports problems and warnings.
  RegistrationSummary RegisterOnRoot(ibc::remesh::TriangleMesh& movingMesh,
    ibc::remesh::TriangleMesh& targetMesh,
    bool targetIsCT);
  /// Warnings on a registration that succeeded, and the transform file.
  void ReportResult(const ibc::registration::Result& result);

  vtkImplantRegister(const vtkImplantRegister&) = delete;
  void operator=(const vtkImplantRegister&) = delete;
};

#endif
