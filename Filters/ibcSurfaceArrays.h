// SPDX-License-Identifier: BSD-3-Clause
// Between VTK surfaces and the plain arrays the algorithms work on.
#ifndef ibcSurfaceArrays_h
#define ibcSurfaceArrays_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcNormalProbe.h"                  // Triangle
#include "ibcVector.h"

#include <string>
#include <vector>

#include <vtkSmartPointer.h>

class vtkDataArray;
class vtkDoubleArray;
class vtkStringArray;
class vtkPolyData;

namespace ibc
{
/// The surface's points, and its polygons and strips as triangles (vertices and lines are
/// ignored; point ids are kept).
IMPLANTBONECONTACTFILTERS_EXPORT void surfaceToArrays(vtkPolyData* surface,
  std::vector<Vec3>& points,
  std::vector<probe::Triangle>& triangles);

/// The first component of an array as doubles (empty when the array is null).
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<double> firstComponent(vtkDataArray* array);

/// The tuples of a 3-component array as vectors (empty when the array is null).
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<Vec3> vectors(vtkDataArray* array);

/// One-value and one-vector field data arrays (thresholds, quality figures, the stem frame).
IMPLANTBONECONTACTFILTERS_EXPORT vtkSmartPointer<vtkDoubleArray> fieldScalar(const char* name,
  double value);
IMPLANTBONECONTACTFILTERS_EXPORT vtkSmartPointer<vtkDoubleArray> fieldVector(const char* name,
  const Vec3& value);
IMPLANTBONECONTACTFILTERS_EXPORT vtkSmartPointer<vtkStringArray> fieldString(const char* name,
  const std::string& value);
}

#endif
