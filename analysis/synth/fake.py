"""Fake direct identifiers for the synthetic data: names, phone numbers and villages by country.

The names are common given and family names of each country, combined at random; the villages are
generic place names. None refers to a real person.
"""

from __future__ import annotations

import numpy as np

COUNTRIES: dict[int, str] = {
    1: "Cambodia",
    2: "Indonesia",
    3: "Lao PDR",
    4: "Malaysia",
    5: "Myanmar",
    6: "Philippines",
    7: "Thailand",
    8: "Viet Nam",
}

# (family-name-first?, family names, men's given names, women's given names)
_NAMES: dict[int, tuple[bool, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    1: (
        True,
        ("Sok", "Chea", "Heng", "Kim", "Lim", "Meas", "Nhem", "Phan", "Sam", "Touch", "Vong"),
        ("Dara", "Vuthy", "Sokha", "Rithy", "Piseth", "Sovann", "Chanthy", "Bunthoeun"),
        ("Sreymom", "Sophea", "Channary", "Bopha", "Sokunthea", "Leakena", "Sopheap", "Malis"),
    ),
    2: (
        False,
        ("Santoso", "Wijaya", "Saputra", "Hidayat", "Pratama", "Siregar", "Nasution", "Lestari"),
        ("Budi", "Agus", "Dedi", "Eko", "Rizky", "Fajar", "Hendra", "Yusuf"),
        ("Siti", "Dewi", "Rina", "Ayu", "Putri", "Indah", "Wulan", "Fitri"),
    ),
    3: (
        False,
        ("Phommavong", "Sisavath", "Keomany", "Vongsa", "Inthavong", "Souvannavong", "Chanthala"),
        ("Somchai", "Bounmy", "Khamphet", "Vilay", "Souksavanh", "Phet", "Thongchanh"),
        ("Noy", "Manivone", "Khamla", "Vanida", "Souphaphone", "Chanthaly", "Malaythong"),
    ),
    4: (
        False,
        ("bin Ahmad", "bin Ismail", "Tan", "Lee", "a/l Raj", "bin Hassan", "Wong", "binti Yusof"),
        ("Ahmad", "Faizal", "Hafiz", "Kumar", "Wei Ming", "Azlan", "Syafiq", "Ravi"),
        ("Nurul Aisyah", "Siti Aminah", "Mei Ling", "Farah", "Priya", "Nor Hayati", "Zarina"),
    ),
    5: (
        False,
        ("Aung", "Kyaw", "Htun", "Win", "Myint", "Oo", "Zaw", "Naing", "Thein"),
        ("Aung Kyaw", "Min Htet", "Zaw Win", "Kyaw Soe", "Htet Naing", "Ye Myint", "Thura"),
        ("Khin Myo", "Thandar", "Su Su", "Ei Ei", "Hnin Wai", "May Thu", "Nilar", "Aye Aye"),
    ),
    6: (
        False,
        (
            "Santos",
            "Reyes",
            "Cruz",
            "Bautista",
            "Garcia",
            "Mendoza",
            "Dela Cruz",
            "Ramos",
            "Aquino",
        ),
        ("Jose", "Mark", "Paolo", "Ramon", "Jerome", "Carlo", "Rodel", "Arnel"),
        ("Maria", "Jocelyn", "Kristine", "Liza", "Rowena", "Angelica", "Marites", "Joy"),
    ),
    7: (
        False,
        ("Jaidee", "Srisuk", "Wongsawat", "Charoenchai", "Boonmee", "Kaewkla", "Rattanakorn"),
        ("Somchai", "Anan", "Kittisak", "Prasit", "Wichai", "Thanawat", "Surasak"),
        ("Siriporn", "Malee", "Nanthana", "Pornpimol", "Kanya", "Suda", "Wanida", "Ratana"),
    ),
    8: (
        True,
        ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui", "Do"),
        ("Van Hung", "Minh Tuan", "Duc Anh", "Quang Huy", "Van Nam", "Thanh Long"),
        ("Thi Lan", "Thi Hoa", "Thu Trang", "Thi Mai", "Ngoc Anh", "Thi Huong", "Phuong Linh"),
    ),
}

_PHONE_FORMATS: dict[int, tuple[str, tuple[str, ...], str]] = {
    # country: (prefix, first groups, pattern of the rest with '#' for a digit)
    1: ("+855", ("12", "17", "92", "97"), " ### ###"),
    2: ("+62", ("812", "813", "821", "852"), "-####-####"),
    3: ("+856", ("20",), " #### ####"),
    4: ("+60", ("12", "13", "16", "19"), "-### ####"),
    5: ("+95", ("9",), " ### ### ###"),
    6: ("+63", ("917", "918", "927", "998"), " ### ####"),
    7: ("+66", ("81", "86", "89", "92"), " ### ####"),
    8: ("+84", ("90", "91", "97", "98"), " ### ####"),
}

VILLAGES: dict[int, tuple[str, ...]] = {
    1: (
        "Prek Chrey",
        "Kampong Luong",
        "Phum Thmei",
        "Trapeang Veng",
        "Svay Rieng Leu",
        "Kok Pring",
    ),
    2: ("Sukamaju", "Sumber Rejo", "Tanjung Sari", "Karang Anyar"),
    3: ("Ban Nongbua", "Ban Houayxay", "Ban Phonsavanh", "Ban Natham"),
    4: ("Kampung Baru", "Kampung Sungai", "Taman Melati"),
    5: ("Kyauk Ta Lone", "Nyaung Pin", "Thit Yar Gone", "Ywar Thit", "Kan Thar Yar"),
    6: ("Barangay San Isidro", "Barangay Malinis", "Sitio Bagong Silang"),
    7: ("Ban Nong Bua", "Ban Don Chai", "Ban Huai Sai", "Ban Pa Sak", "Ban Mae Kham"),
    8: ("Thon Dong", "Xa Tan Lap", "Thon Trung", "Xa An Phu"),
}


def names(rng: np.random.Generator, country: np.ndarray, woman: np.ndarray) -> list[str]:
    """One fake full name per person, in the naming order of the person's country."""
    out: list[str] = []
    for c, w in zip(country.tolist(), woman.tolist(), strict=True):
        family_first, families, men, women = _NAMES[int(c)]
        given = str(rng.choice(women if w else men))
        family = str(rng.choice(families))
        if int(c) == 5:  # Myanmar: no family name, two or three syllables
            out.append(f"{'Daw' if w else 'U'} {given}" if rng.random() < 0.3 else given)
        elif int(c) == 4 and family.startswith(("bin", "binti")):
            out.append(f"{given} {'binti' if w else 'bin'} {family.split(' ', 1)[1]}")
        else:
            out.append(f"{family} {given}" if family_first else f"{given} {family}")
    return out


def phones(rng: np.random.Generator, country: np.ndarray) -> list[str]:
    """One fake mobile number per person in the country's international format."""
    out: list[str] = []
    for c in country.tolist():
        prefix, firsts, rest = _PHONE_FORMATS[int(c)]
        digits = iter(rng.integers(0, 10, size=rest.count("#")).tolist())
        tail = "".join(str(next(digits)) if ch == "#" else ch for ch in rest)
        out.append(f"{prefix} {rng.choice(firsts)}{tail}")
    return out


def villages(rng: np.random.Generator, country: np.ndarray) -> list[str]:
    """One fake village name per person."""
    return [str(rng.choice(VILLAGES[int(c)])) for c in country.tolist()]
