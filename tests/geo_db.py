"""Small MaxMind-format city and ASN databases for the geolocation and travel tests, written with mmdb-writer."""

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

#: network: (country code, country, city or None, latitude, longitude, accuracy km, ASN, AS organisation)
PLACES = {
    "81.2.69.0/24": ("GB", "United Kingdom", "London", 51.5142, -0.0931, 10, 20712, "Example Broadband London"),
    "89.160.20.0/24": ("SE", "Sweden", "Linköping", 58.4167, 15.6167, 20, 29518, "Example Fibre Sweden"),
    "175.16.199.0/24": ("CN", "China", "Changchun", 43.88, 125.3228, 50, 4837, "Example Backbone China"),
    "2.125.160.0/24": ("GB", "United Kingdom", "Boxford", 51.75, -1.25, 100, 20712, "Example Broadband London"),
    "67.43.156.0/24": ("BT", "Bhutan", None, 27.5, 90.5, 1000, 35908, "Example Transit Bhutan"),
    "2001:db9:1::/48": ("AU", "Australia", "Sydney", -33.8688, 151.2093, 20, 20712, "Example Broadband London"),
    "149.101.100.0/24": ("US", "United States", "Houston", 29.7633, -95.3633, 5, 21928, "Example Mobile Wireless US"),
    "216.160.83.0/24": ("US", "United States", "Milton", 47.2513, -122.3149, 22, 21928, "Example Mobile Wireless US"),
}


def write_geo_databases(folder: Path, places: dict = PLACES, city_type: str = "GeoLite2-City",
                        asn_type: str = "GeoLite2-ASN") -> tuple[Path, Path]:
    """Write a city and an ASN database of `places` into `folder`; returns their paths."""
    city = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=city_type, languages=["en"],
                      description="test city database")
    asn = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=asn_type, languages=["en"],
                     description="test ASN database")
    for network, (code, country, town, latitude, longitude, accuracy, number, org) in places.items():
        record = {"country": {"iso_code": code, "names": {"en": country}},
                  "location": {"latitude": latitude, "longitude": longitude, "accuracy_radius": accuracy}}
        if town:
            record["city"] = {"names": {"en": town}}
        city.insert_network(IPSet([network]), record)
        asn.insert_network(IPSet([network]), {"autonomous_system_number": number,
                                             "autonomous_system_organization": org})
    paths = folder / "city.mmdb", folder / "asn.mmdb"
    city.to_db_file(str(paths[0]))
    asn.to_db_file(str(paths[1]))
    return paths
