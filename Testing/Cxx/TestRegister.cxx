// SPDX-License-Identifier: BSD-3-Clause
// Unit tests of the registration and the small linear algebra under it, without the pipeline.
#include "ibcLinearAlgebra.h"
#include "ibcRegister.h"
#include "ibcTHAPhantomModel.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace ibc;
using namespace ibc::registration;

namespace
{
remesh::TriangleMesh phantomStem()
{
  phantom::Parameters parameters;
  parameters.chordTolerance = 0.01;
  const phantom::Surface surface = phantom::PhantomModel(parameters).generateSurface();
  return { surface.points, surface.triangles };
}

remesh::TriangleMesh moved(const remesh::TriangleMesh& mesh, const Transform& transform)
{
  remesh::TriangleMesh result = mesh;
  for (Vec3& p : result.points)
  {
    p = transform.apply(p);
  }
  return result;
}

double vertexRMS(const remesh::TriangleMesh& a, const remesh::TriangleMesh& b)
{
  double sum = 0.0;
  for (std::size_t i = 0; i < a.points.size(); ++i)
  {
    const Vec3 d = a.points[i] - b.points[i];
    sum += dot(d, d);
  }
  return std::sqrt(sum / static_cast<double>(a.points.size()));
}
}

TEST(LinearAlgebra, SymmetricEigenAndLinearSystems)
{
  // A symmetric matrix with known eigenvalues 6, 3, 1 (Q diag Q^T with a rotation Q).
  const Rotation q = rotationFromAxisAngle({ 0.3, -0.5, 0.8 });
  const double d[3] = { 6.0, 3.0, 1.0 };
  Matrix3 a{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 3; ++k)
        a[r][c] += q[3 * r + k] * d[k] * q[3 * c + k];
  const SymmetricEigen eigen = symmetricEigen(a);
  const std::array<int, 3> order = eigen.decreasing();
  for (int k = 0; k < 3; ++k)
  {
    EXPECT_NEAR(eigen.values[order[k]], d[k], 1e-12);
    const Vec3 column{ q[k], q[3 + k], q[6 + k] };
    EXPECT_NEAR(std::abs(dot(eigen.vectors[order[k]], column)), 1.0, 1e-12);
  }
  EXPECT_EQ(eigen.largest(), order[0]);

  std::vector<double> rhs = { 1.0, 2.0, 3.0 };
  ASSERT_TRUE(solveLinearSystem({ 0, 2, 1, 1, 1, 0, 3, 0, 1 }, rhs)); // needs pivoting
  EXPECT_NEAR(0 * rhs[0] + 2 * rhs[1] + 1 * rhs[2], 1.0, 1e-12);
  EXPECT_NEAR(1 * rhs[0] + 1 * rhs[1] + 0 * rhs[2], 2.0, 1e-12);
  EXPECT_NEAR(3 * rhs[0] + 0 * rhs[1] + 1 * rhs[2], 3.0, 1e-12);
  std::vector<double> singular = { 1.0, 1.0 };
  EXPECT_FALSE(solveLinearSystem({ 1, 2, 2, 4 }, singular));

  EXPECT_NEAR(rotationAngleDegrees(rotationFromAxisAngle({ 0, 0, 0.5 })), 0.5 * 180.0 / M_PI, 1e-9);
}

TEST(Register, TransformsComposeAndInvert)
{
  Transform a;
  a.rotation = rotationFromAxisAngle({ 0.2, 0.1, -0.4 });
  a.translation = { 3, -2, 7 };
  a.scale = 1.1;
  Transform b;
  b.rotation = rotationFromAxisAngle({ -0.5, 0.3, 0.2 });
  b.translation = { -1, 4, 2 };
  const Vec3 p{ 10, -20, 30 };
  EXPECT_LT(length(a.then(b).apply(p) - b.apply(a.apply(p))), 1e-12);
  EXPECT_LT(length(a.inverse().apply(a.apply(p)) - p), 1e-12);
  const std::array<double, 16> m = a.matrix();
  const Vec3 viaMatrix{ m[0] * p.x + m[1] * p.y + m[2] * p.z + m[3],
    m[4] * p.x + m[5] * p.y + m[6] * p.z + m[7],
    m[8] * p.x + m[9] * p.y + m[10] * p.z + m[11] };
  EXPECT_LT(length(viaMatrix - a.apply(p)), 1e-12);
}

TEST(Register, SamplesAreSpreadByArea)
{
  // A fan-tessellated CAD stem: samples must follow area, not vertices.
  const remesh::TriangleMesh stem = phantomStem();
  const std::vector<Vec3> samples = sampleSurface(stem, 4000);
  EXPECT_NEAR(static_cast<double>(samples.size()), 4000.0, 1.0);
  // Compare the samples' centroid with the exact area centroid.
  SurfaceMoments moments;
  for (const auto& t : stem.triangles)
  {
    moments.addTriangle(stem.points[t[0]], stem.points[t[1]], stem.points[t[2]]);
  }
  Vec3 mean;
  for (const Vec3& p : samples)
  {
    mean = mean + p;
  }
  mean = (1.0 / samples.size()) * mean;
  EXPECT_LT(length(mean - moments.centroid()), 0.5);
}

TEST(Register, RecoversAKnownPoseExactly)
{
  const remesh::TriangleMesh target = phantomStem();
  Transform displacement;
  displacement.rotation = rotationFromAxisAngle({ 0.15, -0.25, 0.2 }); // about 20 degrees
  displacement.translation = { 12.0, -9.0, 14.0 };
  const remesh::TriangleMesh moving = moved(target, displacement);
  const Result result = registerSurfaces(moving, target, Options());
  ASSERT_TRUE(result.ok) << result.problem;
  EXPECT_LT(vertexRMS(moved(moving, result.transform), target), 1e-3);
  EXPECT_LT(rotationAngleDegrees(multiply(result.transform.rotation, displacement.rotation)), 0.01);
  EXPECT_LT(result.rms, 1e-3);
}

TEST(Register, FindsAHalfTurnThroughThePrincipalAxes)
{
  const remesh::TriangleMesh target = phantomStem();
  Transform displacement;
  displacement.rotation = rotationFromAxisAngle({ 0.0, 0.0, M_PI }); // 180 degrees
  displacement.translation = { 40.0, 25.0, -30.0 };
  const Result result = registerSurfaces(moved(target, displacement), target, Options());
  ASSERT_TRUE(result.ok);
  EXPECT_LT(vertexRMS(moved(moved(target, displacement), result.transform), target), 1e-3);
  Options givenOnly;
  givenOnly.automaticInitialAlignment = false;
  const Result local = registerSurfaces(moved(target, displacement), target, givenOnly);
  EXPECT_GT(vertexRMS(moved(moved(target, displacement), local.transform), target), 1.0)
    << "without the principal-axes starts a half turn is out of ICP's reach";
}

TEST(Register, EstimatesScaleOnlyWhenAllowed)
{
  const remesh::TriangleMesh target = phantomStem();
  Transform displacement;
  displacement.rotation = rotationFromAxisAngle({ 0.05, 0.1, 0.0 });
  displacement.translation = { 3.0, 2.0, 1.0 };
  displacement.scale = 1.02;
  const remesh::TriangleMesh moving = moved(target, displacement);
  Options similarity;
  similarity.similarity = true;
  const Result scaled = registerSurfaces(moving, target, similarity);
  ASSERT_TRUE(scaled.ok);
  EXPECT_NEAR(scaled.transform.scale, 1.0 / 1.02, 1e-4);
  EXPECT_LT(vertexRMS(moved(moving, scaled.transform), target), 1e-2);
  const Result rigid = registerSurfaces(moving, target, Options());
  EXPECT_DOUBLE_EQ(rigid.transform.scale, 1.0);
}

TEST(Register, EmptyInputIsReported)
{
  const Result result = registerSurfaces(remesh::TriangleMesh(), phantomStem(), Options());
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(result.problem.empty());
}

TEST(Register, MatrixRoundTripKeepsRotationScaleAndTranslation)
{
  Transform a;
  a.rotation = rotationFromAxisAngle({ 0.3, -0.7, 0.2 });
  a.translation = { -12, 5, 40 };
  a.scale = 1.25;
  const std::array<double, 16> m = a.matrix();
  const Transform b = transformFromMatrix(m.data());
  EXPECT_NEAR(b.scale, 1.25, 1e-12);
  for (int i = 0; i < 9; ++i)
  {
    EXPECT_NEAR(b.rotation[i], a.rotation[i], 1e-12);
  }
  EXPECT_LT(length(b.translation - a.translation), 1e-12);
  EXPECT_TRUE(isHalfTurnAboutZ(rotationFromAxisAngle({ 0, 0, M_PI })));
  EXPECT_FALSE(isHalfTurnAboutZ(rotationFromAxisAngle({ 0, 0, 0.5 * M_PI })));
  EXPECT_FALSE(isHalfTurnAboutZ(rotationFromAxisAngle({ M_PI, 0, 0 })));
}

TEST(Register, InputProblemsNameTheCause)
{
  const remesh::TriangleMesh stem = phantomStem();
  EXPECT_EQ(inputProblem(stem, stem, false, false), "");
  EXPECT_NE(
    inputProblem(remesh::TriangleMesh(), stem, false, false).find("Input"), std::string::npos);
  EXPECT_NE(
    inputProblem(stem, remesh::TriangleMesh(), true, false).find("from the CT"), std::string::npos);
  // A CAD surface in metres: 1000 times too small, unless scaling is allowed.
  Transform metres;
  metres.scale = 0.001;
  const remesh::TriangleMesh small = moved(stem, metres);
  EXPECT_NE(inputProblem(small, stem, false, false).find("metres"), std::string::npos);
  EXPECT_EQ(inputProblem(small, stem, false, true), "");
  remesh::TriangleMesh broken = stem;
  broken.points[3].y = std::nan("");
  EXPECT_NE(inputProblem(stem, broken, false, false).find("Target"), std::string::npos);
}
