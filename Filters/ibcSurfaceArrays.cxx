// SPDX-License-Identifier: BSD-3-Clause
#include "ibcSurfaceArrays.h"

#include <vtkCellArray.h>
#include <vtkDataArray.h>
#include <vtkDoubleArray.h>
#include <vtkNew.h>
#include <vtkPolyData.h>
#include <vtkStringArray.h>
#include <vtkTriangleFilter.h>

namespace ibc
{
void surfaceToArrays(vtkPolyData* surface,
  std::vector<Vec3>& points,
  std::vector<probe::Triangle>& triangles)
{
  const vtkIdType pointCount = surface->GetNumberOfPoints();
  points.resize(static_cast<std::size_t>(pointCount));
  for (vtkIdType i = 0; i < pointCount; ++i)
  {
    double p[3];
    surface->GetPoint(i, p);
    points[i] = { p[0], p[1], p[2] };
  }
  triangles.clear();
  if (surface->GetNumberOfPolys() == 0 && surface->GetNumberOfStrips() == 0)
  {
    return;
  }
  if (surface->GetNumberOfStrips() == 0)
  {
    // Most surfaces are triangles already (STL, a remeshed stem): read them as they are, in
    // the order vtkTriangleFilter would give them.
    vtkCellArray* polys = surface->GetPolys();
    triangles.reserve(static_cast<std::size_t>(polys->GetNumberOfCells()));
    vtkIdType count;
    const vtkIdType* ids;
    bool allTriangles = true;
    for (polys->InitTraversal(); allTriangles && polys->GetNextCell(count, ids);)
    {
      allTriangles = count == 3;
      if (allTriangles)
      {
        triangles.push_back({ ids[0], ids[1], ids[2] });
      }
    }
    if (allTriangles)
    {
      return;
    }
    triangles.clear();
  }
  vtkNew<vtkPolyData> polygons;
  polygons->SetPoints(surface->GetPoints());
  polygons->SetPolys(surface->GetPolys());
  polygons->SetStrips(surface->GetStrips());
  vtkNew<vtkTriangleFilter> triangulate;
  triangulate->SetInputData(polygons);
  triangulate->PassVertsOff();
  triangulate->PassLinesOff();
  triangulate->Update();
  vtkCellArray* cells = triangulate->GetOutput()->GetPolys();
  triangles.reserve(static_cast<std::size_t>(cells->GetNumberOfCells()));
  vtkIdType count;
  const vtkIdType* ids;
  for (cells->InitTraversal(); cells->GetNextCell(count, ids);)
  {
    if (count == 3)
    {
      triangles.push_back({ ids[0], ids[1], ids[2] });
    }
  }
}

std::vector<double> firstComponent(vtkDataArray* array)
{
  std::vector<double> values;
  if (array)
  {
    values.resize(static_cast<std::size_t>(array->GetNumberOfTuples()));
    for (vtkIdType i = 0; i < array->GetNumberOfTuples(); ++i)
    {
      values[i] = array->GetComponent(i, 0);
    }
  }
  return values;
}

std::vector<Vec3> vectors(vtkDataArray* array)
{
  std::vector<Vec3> result;
  if (array && array->GetNumberOfComponents() == 3)
  {
    result.resize(static_cast<std::size_t>(array->GetNumberOfTuples()));
    for (vtkIdType i = 0; i < array->GetNumberOfTuples(); ++i)
    {
      double v[3];
      array->GetTuple(i, v);
      result[i] = { v[0], v[1], v[2] };
    }
  }
  return result;
}

vtkSmartPointer<vtkDoubleArray> fieldScalar(const char* name, double value)
{
  auto array = vtkSmartPointer<vtkDoubleArray>::New();
  array->SetName(name);
  array->InsertNextValue(value);
  return array;
}

vtkSmartPointer<vtkDoubleArray> fieldVector(const char* name, const Vec3& value)
{
  auto array = vtkSmartPointer<vtkDoubleArray>::New();
  array->SetName(name);
  array->SetNumberOfComponents(3);
  array->InsertNextTuple3(value.x, value.y, value.z);
  return array;
}

vtkSmartPointer<vtkStringArray> fieldString(const char* name, const std::string& value)
{
  auto array = vtkSmartPointer<vtkStringArray>::New();
  array->SetName(name);
  array->InsertNextValue(value);
  return array;
}
}
