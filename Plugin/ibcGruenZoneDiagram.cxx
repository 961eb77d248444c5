#include "ibcGruenZoneDiagram.h"

#include <QImage>
#include <QPainter>
#include <QPainterPath>
#include <QPolygonF>
#include <QSvgGenerator>

#include <algorithm>
#include <cmath>

namespace
{
// The drawing's own coordinates; render() scales them to the target.
constexpr double CanvasWidth = 560.0;
constexpr double CanvasHeight = 600.0;
constexpr double TopWidth = 120.0;
constexpr double BottomWidth = 60.0;
constexpr double StemHeight = 420.0;
constexpr double TipDepth = 40.0;
constexpr double StemTop = 80.0;

struct ZoneView
{
  const char* title;
  int left[3];  // zones on the left half, top to bottom
  int right[3]; // zones on the right half, top to bottom
  int tip;
  const char* leftSide;
  const char* rightSide;
};

// AP view: lateral on the left, medial on the right; lateral view: anterior left, posterior
// right (the usual radiographic reading, whatever the side of the hip).
const ZoneView Views[2] = { { "AP view", { 1, 2, 3 }, { 7, 6, 5 }, 4, "lateral", "medial" },
  { "Lateral view", { 8, 9, 10 }, { 14, 13, 12 }, 11, "anterior", "posterior" } };

double halfWidth(double depth)
{
  return 0.5 * (TopWidth + (BottomWidth - TopWidth) * depth / StemHeight);
}

double axisOf(int view)
{
  return 140.0 + 280.0 * view;
}

QPolygonF sideZone(double axis, double sign, int third)
{
  const double top = third * StemHeight / 3.0;
  const double bottom = (third + 1) * StemHeight / 3.0;
  QPolygonF polygon;
  polygon << QPointF(axis, StemTop + top) << QPointF(axis + sign * halfWidth(top), StemTop + top)
          << QPointF(axis + sign * halfWidth(bottom), StemTop + bottom)
          << QPointF(axis, StemTop + bottom);
  return polygon;
}

QPolygonF tipZone(double axis)
{
  const double w = halfWidth(StemHeight);
  QPolygonF polygon;
  const int steps = 16;
  for (int k = 0; k <= steps; ++k)
  {
    const double angle = M_PI * k / steps;
    polygon << QPointF(
      axis - w * std::cos(angle), StemTop + StemHeight + TipDepth * std::sin(angle));
  }
  return polygon;
}

bool isValue(double value)
{
  return std::isfinite(value);
}
} // namespace

ibcGruenZoneDiagram::ibcGruenZoneDiagram(QWidget* parent)
  : QWidget(parent)
{
  this->setObjectName("GruenZoneDiagram");
  this->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ibcGruenZoneDiagram::setValues(const QString& column, const QMap<int, double>& valueByZone)
{
  this->Column = column;
  this->Values = valueByZone;
  // Fractions keep 0-1 so that colours compare between stems; other columns span their zones.
  this->Low = 0.0;
  this->High = 1.0;
  if (!this->isFraction())
  {
    bool first = true;
    for (auto it = valueByZone.begin(); it != valueByZone.end(); ++it)
    {
      if (it.key() == 0 || !isValue(it.value()))
      {
        continue;
      }
      this->Low = first ? it.value() : std::min(this->Low, it.value());
      this->High = first ? it.value() : std::max(this->High, it.value());
      first = false;
    }
    if (this->High <= this->Low)
    {
      this->High = this->Low + 1.0;
    }
  }
  this->update();
}

void ibcGruenZoneDiagram::clear()
{
  this->setValues(QString(), QMap<int, double>());
}

QString ibcGruenZoneDiagram::zoneValues() const
{
  QStringList pairs;
  for (auto it = this->Values.begin(); it != this->Values.end(); ++it)
  {
    pairs << QString("%1=%2").arg(it.key()).arg(
      isValue(it.value()) ? QString::number(it.value(), 'g', 4) : QString("-"));
  }
  return pairs.join(' ');
}

bool ibcGruenZoneDiagram::isFraction() const
{
  return this->Column.endsWith("Fraction");
}

QColor ibcGruenZoneDiagram::fillColour(double value) const
{
  if (!isValue(value))
  {
    return QColor(204, 204, 204);
  }
  const double t = std::min(1.0, std::max(0.0, (value - this->Low) / (this->High - this->Low)));
  // White to dark red: the more of the column (bone contact, HU, layer width), the darker.
  return QColor(int(std::lround(247 + t * (178 - 247))),
    int(std::lround(247 + t * (24 - 247))),
    int(std::lround(247 + t * (43 - 247))));
}

QString ibcGruenZoneDiagram::label(double value) const
{
  if (!isValue(value))
  {
    return "-";
  }
  if (this->isFraction())
  {
    return QString("%1 %").arg(100.0 * value, 0, 'f', 0);
  }
  if (this->Column.contains("Width"))
  {
    return QString("%1 mm").arg(value, 0, 'f', 2);
  }
  return QString::number(value, 'f', std::fabs(value) >= 100.0 ? 0 : 2);
}

void ibcGruenZoneDiagram::drawView(QPainter& painter, int view) const
{
  const ZoneView& layout = Views[view];
  const double axis = axisOf(view);
  QFont font = painter.font();
  font.setPixelSize(15);
  painter.setFont(font);
  painter.setPen(Qt::black);
  painter.drawText(QRectF(axis - 140, StemTop - 44, 280, 20), Qt::AlignCenter, layout.title);
  font.setPixelSize(11);
  painter.setFont(font);
  painter.drawText(QRectF(axis - 140, StemTop - 20, 140 - TopWidth / 2 + 50, 16),
    Qt::AlignRight | Qt::AlignVCenter,
    layout.leftSide);
  painter.drawText(QRectF(axis + TopWidth / 2 - 50, StemTop - 20, 140, 16),
    Qt::AlignLeft | Qt::AlignVCenter,
    layout.rightSide);

  auto drawZone = [&](int zone, const QPolygonF& polygon, QPointF centre)
  {
    const double value = this->Values.value(zone, std::nan(""));
    painter.setPen(QPen(Qt::black, 1.5));
    painter.setBrush(this->fillColour(value));
    painter.drawPolygon(polygon);
    const bool dark = isValue(value) && (value - this->Low) / (this->High - this->Low) > 0.6;
    painter.setPen(dark ? Qt::white : Qt::black);
    QFont zoneFont = painter.font();
    zoneFont.setPixelSize(12);
    zoneFont.setBold(true);
    painter.setFont(zoneFont);
    painter.drawText(
      QRectF(centre.x() - 40, centre.y() - 18, 80, 16), Qt::AlignCenter, QString::number(zone));
    zoneFont.setBold(false);
    zoneFont.setPixelSize(11);
    painter.setFont(zoneFont);
    painter.drawText(
      QRectF(centre.x() - 40, centre.y() - 2, 80, 16), Qt::AlignCenter, this->label(value));
  };
  for (int third = 0; third < 3; ++third)
  {
    const double middle = StemTop + (third + 0.5) * StemHeight / 3.0;
    const double offset = 0.5 * halfWidth(middle - StemTop);
    drawZone(layout.left[third], sideZone(axis, -1.0, third), QPointF(axis - offset, middle));
    drawZone(layout.right[third], sideZone(axis, 1.0, third), QPointF(axis + offset, middle));
  }
  drawZone(layout.tip, tipZone(axis), QPointF(axis, StemTop + StemHeight + 0.45 * TipDepth));
}

void ibcGruenZoneDiagram::drawLegend(QPainter& painter) const
{
  const double y = CanvasHeight - 40.0;
  QFont font = painter.font();
  font.setPixelSize(13);
  painter.setFont(font);
  painter.setPen(Qt::black);
  if (this->Values.contains(0))
  {
    painter.drawText(QRectF(0, y - 32, CanvasWidth, 18),
      Qt::AlignCenter,
      QString("whole stem: %1").arg(this->label(this->Values.value(0))));
  }
  painter.setPen(Qt::NoPen);
  for (int k = 0; k <= 10; ++k)
  {
    painter.setBrush(this->fillColour(this->Low + k * (this->High - this->Low) / 10.0));
    painter.drawRect(QRectF(170 + 20 * k, y, 20, 10));
  }
  painter.setPen(Qt::black);
  font.setPixelSize(10);
  painter.setFont(font);
  painter.drawText(
    QRectF(60, y - 3, 105, 16), Qt::AlignRight | Qt::AlignVCenter, this->label(this->Low));
  painter.drawText(
    QRectF(395, y - 3, 120, 16), Qt::AlignLeft | Qt::AlignVCenter, this->label(this->High));
}

void ibcGruenZoneDiagram::render(QPainter& painter, const QRectF& target) const
{
  painter.save();
  painter.setRenderHint(QPainter::Antialiasing);
  painter.fillRect(target, Qt::white);
  const double scale = std::min(target.width() / CanvasWidth, target.height() / CanvasHeight);
  painter.translate(target.center().x() - 0.5 * scale * CanvasWidth,
    target.center().y() - 0.5 * scale * CanvasHeight);
  painter.scale(scale, scale);
  QFont font = painter.font();
  font.setPixelSize(18);
  painter.setFont(font);
  painter.setPen(Qt::black);
  painter.drawText(QRectF(0, 8, CanvasWidth, 26),
    Qt::AlignCenter,
    this->Column.isEmpty() ? QString("No Gruen Zone Stats selected")
                           : QString("%1 by Gruen zone").arg(this->Column));
  if (!this->Column.isEmpty())
  {
    this->drawView(painter, 0);
    this->drawView(painter, 1);
    this->drawLegend(painter);
  }
  painter.restore();
}

bool ibcGruenZoneDiagram::exportPNG(const QString& path) const
{
  QImage image(int(CanvasWidth * 2), int(CanvasHeight * 2), QImage::Format_RGB32);
  image.fill(Qt::white);
  QPainter painter(&image);
  this->render(painter, QRectF(0, 0, image.width(), image.height()));
  painter.end();
  return image.save(path, "PNG");
}

bool ibcGruenZoneDiagram::exportSVG(const QString& path) const
{
  QSvgGenerator generator;
  generator.setFileName(path);
  generator.setSize(QSize(int(CanvasWidth), int(CanvasHeight)));
  generator.setViewBox(QRectF(0, 0, CanvasWidth, CanvasHeight));
  generator.setTitle(QString("%1 by Gruen zone").arg(this->Column));
  generator.setDescription(this->zoneValues());
  QPainter painter;
  if (!painter.begin(&generator))
  {
    return false;
  }
  this->render(painter, QRectF(0, 0, CanvasWidth, CanvasHeight));
  return painter.end();
}

QSize ibcGruenZoneDiagram::sizeHint() const
{
  return QSize(int(CanvasWidth / 1.5), int(CanvasHeight / 1.5));
}

QSize ibcGruenZoneDiagram::minimumSizeHint() const
{
  return QSize(int(CanvasWidth / 3), int(CanvasHeight / 3));
}

void ibcGruenZoneDiagram::paintEvent(QPaintEvent*)
{
  QPainter painter(this);
  this->render(painter, QRectF(this->rect()));
}
