import proj4 from 'proj4';
import { describe, expect, it } from 'vitest';
import { crsFromGeoKeys, lookupEpsg } from './crs.js';

describe('crsFromGeoKeys', () => {
  it('resolves a projected EPSG code offline through epsg-index', async () => {
    const crs = await crsFromGeoKeys({ GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 32618 });
    expect(crs).toMatchObject({ epsg: 32618, name: 'WGS 84 / UTM zone 18N' });
    expect(crs!.proj4).toBe('+proj=utm +zone=18 +datum=WGS84 +units=m +no_defs');
    expect(crs!.wkt).toContain('UTM zone 18N');
  });

  it('resolves a geographic code and keeps datum shifts', async () => {
    expect((await crsFromGeoKeys({ GTModelTypeGeoKey: 2, GeographicTypeGeoKey: 4326 }))?.epsg).toBe(4326);
    const nad83 = await crsFromGeoKeys({ GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 26914 });
    expect(nad83?.proj4).toContain('+zone=14');
  });

  it('builds a sinusoidal CRS from projection geokeys (MODIS style, user-defined sphere)', async () => {
    const crs = await crsFromGeoKeys({
      GTModelTypeGeoKey: 1,
      GeographicTypeGeoKey: 32767,
      GeogSemiMajorAxisGeoKey: 6371007.181,
      GeogSemiMinorAxisGeoKey: 6371007.181,
      ProjectedCSTypeGeoKey: 32767,
      ProjectionGeoKey: 32767,
      ProjCoordTransGeoKey: 24,
      ProjFalseEastingGeoKey: 0,
      ProjFalseNorthingGeoKey: 0,
      ProjCenterLongGeoKey: 0,
    });
    expect(crs?.epsg).toBeNull();
    expect(crs?.proj4).toContain('+proj=sinu');
    // MODIS tile h20v11 upper-left corner: y is 20°S exactly; x = 30° of equatorial arc, i.e. 30°/cos(20°) there
    const [lon, lat] = proj4(crs!.proj4!, 'EPSG:4326', [3335851.559, -2223901.039333]);
    expect(lat).toBeCloseTo(-20, 6);
    expect(lon).toBeCloseTo(30 / Math.cos((20 * Math.PI) / 180), 6);
  });

  it('takes the PROJ4 extension of an ESRI PE string WKT (geostationary)', async () => {
    const wkt =
      'PROJCS["unnamed",GEOGCS["unknown",DATUM["unnamed",SPHEROID["Spheroid",6378137,298.2572221]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Geostationary_Satellite"],PARAMETER["central_meridian",-75],PARAMETER["satellite_height",35786023],UNIT["metre",1],EXTENSION["PROJ4","+proj=geos +lon_0=-75 +h=35786023 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs +sweep=x"]]';
    const crs = await crsFromGeoKeys({ GTModelTypeGeoKey: 32767, PCSCitationGeoKey: `ESRI PE String = ${wkt}` });
    expect(crs).toMatchObject({ epsg: null, wkt });
    expect(crs!.proj4).toMatch(/^\+proj=geos \+lon_0=-75/);
  });

  it('returns null without geokeys and for unknown codes', async () => {
    expect(await crsFromGeoKeys(null)).toBeNull();
    expect(await lookupEpsg(999999)).toBeNull();
  });
});
