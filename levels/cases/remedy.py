"""What a refusal tells the applicant they may do about it (000 四.三.2(4): "告知申请人
享有依法申请行政复议或者提起行政诉讼的权利"), with the time limits of 行政复议法 第二十条
(sixty days) and 行政诉讼法 第四十六条 (six months)."""

REMEDY = (
    "如不服本决定，可自收到本决定之日起六十日内依法申请行政复议，"
    "或者六个月内依法向人民法院提起行政诉讼。"
)
