import MTCore
